// A dry run: the same sandbox, the same limits, but on SYNTHETIC rows only, so the report may show
// inputs, outputs and the messages of what was thrown. It is how an analyst debugs a function
// before spending budget on the real rows.

import { verifyTraced, type TracedFunction } from './traced.ts';
import { evaluateRows, type EvaluationCounters, type SandboxOptions } from './evaluate-rows.ts';
import { emptyFailureCounts, type FailureCounts } from './run-summary.ts';
import type { FailureKind } from './guest-harness.ts';
import { isSynthetic, SYNTHETIC_NOTICE, type SyntheticRows } from '../synthetic/synthetic-rows.ts';

export interface DryRunReport {
  readonly notice: typeof SYNTHETIC_NOTICE;
  readonly provenance: 'synthetic';
  readonly function: { readonly name: string; readonly sha256: string };
  readonly rowsIn: number;
  readonly rowsOut: number;
  readonly failures: FailureCounts;
  /** The first successful calls: what went in (the row, or its column value) and what came out. */
  readonly examples: readonly { readonly input: unknown; readonly output: unknown }[];
  /** The first failures, with their messages (safe: the rows are synthetic). */
  readonly failureExamples: readonly { readonly input: unknown; readonly kind: FailureKind; readonly message: string }[];
}

export interface DryRunOptions extends SandboxOptions {
  /** How many examples of each sort to keep (default 5). */
  readonly maxExamples?: number;
}

export async function dryRun(traced: TracedFunction, syntheticRows: SyntheticRows, options: DryRunOptions = {}): Promise<DryRunReport> {
  if (!isSynthetic(syntheticRows)) {
    throw new TypeError('dryRun shows row content and accepts only rows sampled from a synthetic twin');
  }
  const verified = verifyTraced(traced);
  const maxExamples = options.maxExamples ?? 5;
  const counters: EvaluationCounters = { realmsCreated: 0, modulesCreated: 0 };
  const failures = emptyFailureCounts();
  const examples: { input: unknown; output: unknown }[] = [];
  const failureExamples: { input: unknown; kind: FailureKind; message: string }[] = [];
  let rowsIn = 0;
  let rowsOut = 0;
  const inputOf = (row: unknown) => (options.column === undefined ? row : (row as Record<string, unknown>)[options.column] ?? null);
  for await (const r of evaluateRows(verified.expression, syntheticRows, options, true, counters)) {
    rowsIn++;
    if (r.ok) {
      rowsOut++;
      if (examples.length < maxExamples) examples.push({ input: inputOf(r.row), output: r.value });
    } else {
      failures.count++;
      failures.byKind[r.kind]++;
      if (failureExamples.length < maxExamples) {
        failureExamples.push({ input: inputOf(r.row), kind: r.kind, message: r.message ?? describeKind(r.kind) });
      }
    }
  }
  return {
    notice: SYNTHETIC_NOTICE,
    provenance: 'synthetic',
    function: { name: verified.name, sha256: verified.sha256 },
    rowsIn, rowsOut, failures, examples, failureExamples,
  };
}

function describeKind(kind: FailureKind): string {
  switch (kind) {
    case 'timeout': return 'the call ran past its CPU-time limit';
    case 'memory': return 'the call ran past its memory limit';
    case 'stackOverflow': return 'the call recursed too deeply';
    case 'nonSerializable': return 'the result is not plain JSON data';
    case 'error': return 'the call threw';
  }
}
