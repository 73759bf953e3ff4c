// Running a traced function over REAL rows.
//
// What comes out is the mapped values and failure COUNTS per kind, nothing else: no message, no
// stack, no index of a failing row. A message thrown while processing a private row can quote it
// (`throw new Error(row.text)`), and which rows fail is itself a fact about them.
//
// The counts are still exact statistics of private data (a function can fail exactly on the rows
// that contain a word). Show them to the data owner, or to an analyst only through
// releaseFailureCounts (failure-release.ts), which adds calibrated noise and must be charged to
// the ledger.

import { verifyTraced, type TracedFunction } from './traced.ts';
import { evaluateRows, type EvaluationCounters, type SandboxOptions } from './evaluate-rows.ts';
import { FAILURE_KINDS, type FailureKind } from './guest-harness.ts';

export interface FailureCounts {
  count: number;
  byKind: Record<FailureKind, number>;
}

export interface TracedRunSummary {
  readonly function: { readonly name: string; readonly sha256: string };
  readonly rowsIn: number;
  readonly rowsOut: number;
  readonly failures: FailureCounts;
  /** Isolation bookkeeping, for operators: realms and WASM instances built for this run. */
  readonly realmsCreated: number;
  readonly modulesCreated: number;
  readonly elapsedMs: number;
}

export interface TracedStream {
  /**
   * The mapped values of the rows that did not fail, in input order. With `column`, each output
   * is the input row with that column replaced by the function's result.
   */
  readonly outputs: AsyncIterable<unknown>;
  /** Settles once `outputs` has been consumed to the end. */
  readonly summary: Promise<TracedRunSummary>;
}

export function emptyFailureCounts(): FailureCounts {
  return { count: 0, byKind: Object.fromEntries(FAILURE_KINDS.map((k) => [k, 0])) as Record<FailureKind, number> };
}

export function streamTraced(
  traced: TracedFunction,
  rows: Iterable<unknown> | AsyncIterable<unknown>,
  options: SandboxOptions = {},
): TracedStream {
  const verified = verifyTraced(traced);
  let settle!: { resolve: (s: TracedRunSummary) => void; reject: (e: unknown) => void };
  const summary = new Promise<TracedRunSummary>((resolve, reject) => { settle = { resolve, reject }; });
  // Nobody may be awaiting the summary yet; a rejection also surfaces through `outputs`.
  summary.catch(() => undefined);

  async function* outputs(): AsyncGenerator<unknown> {
    const started = performance.now();
    const counters: EvaluationCounters = { realmsCreated: 0, modulesCreated: 0 };
    const failures = emptyFailureCounts();
    let rowsIn = 0;
    let rowsOut = 0;
    try {
      for await (const r of evaluateRows(verified.expression, rows, options, false, counters)) {
        rowsIn++;
        if (!r.ok) {
          failures.count++;
          failures.byKind[r.kind]++;
          continue;
        }
        rowsOut++;
        yield options.column === undefined ? r.value : { ...(r.row as Record<string, unknown>), [options.column]: r.value };
      }
    } catch (err) {
      settle.reject(err);
      throw err;
    }
    settle.resolve({
      function: { name: verified.name, sha256: verified.sha256 },
      rowsIn, rowsOut, failures, ...counters,
      elapsedMs: performance.now() - started,
    });
  }

  return { outputs: outputs(), summary };
}

/** Runs over all rows and collects the outputs in memory. */
export async function runTraced(
  traced: TracedFunction,
  rows: Iterable<unknown> | AsyncIterable<unknown>,
  options: SandboxOptions = {},
): Promise<TracedRunSummary & { readonly outputs: unknown[] }> {
  const stream = streamTraced(traced, rows, options);
  const outputs: unknown[] = [];
  for await (const value of stream.outputs) outputs.push(value);
  return { ...(await stream.summary), outputs };
}
