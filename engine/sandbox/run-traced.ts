// Running a traced function over REAL rows.
//
// What comes out is the mapped values and failure COUNTS per kind, nothing else: no message, no
// stack, no index of a failing row. A message thrown while processing a private row can quote it
// (`throw new Error(row.text)`), and which rows fail is itself a fact about them.
//
// The function runs in worker threads that are terminated at each row's hard deadline, in fixed
// time slots padded to the public row count (paced-steps.ts, slot-clock.ts), so neither a native
// call that QuickJS cannot interrupt nor the rows' content decides how long the run takes.

import type { TracedFunction } from './traced.ts';
import type { SandboxOptions } from './evaluate-rows.ts';
import { streamPacedSteps, type PacingOptions } from './paced-steps.ts';
import type { TracedRunSummary } from './run-summary.ts';

export { emptyFailureCounts, type FailureCounts, type TracedRunSummary } from './run-summary.ts';

export interface TracedStream {
  /**
   * The mapped values of the rows that did not fail, in input order. With `column`, each output
   * is the input row with that column replaced by the function's result.
   */
  readonly outputs: AsyncIterable<unknown>;
  /** Settles once `outputs` has been consumed to the end. */
  readonly summary: Promise<TracedRunSummary>;
}

export type TracedRunOptions = SandboxOptions & PacingOptions;

export function streamTraced(
  traced: TracedFunction,
  rows: Iterable<unknown> | AsyncIterable<unknown>,
  options: TracedRunOptions = {},
): TracedStream {
  const run = streamPacedSteps([{ kind: 'traced', fn: traced, column: options.column }], rows, options);
  return { outputs: run.outputs, summary: run.summaries[0] };
}

/** Runs over all rows and collects the outputs in memory. */
export async function runTraced(
  traced: TracedFunction,
  rows: Iterable<unknown> | AsyncIterable<unknown>,
  options: TracedRunOptions = {},
): Promise<TracedRunSummary & { readonly outputs: unknown[] }> {
  const stream = streamTraced(traced, rows, options);
  const outputs: unknown[] = [];
  for await (const value of stream.outputs) outputs.push(value);
  return { ...(await stream.summary), outputs };
}
