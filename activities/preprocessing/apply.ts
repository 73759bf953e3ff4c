// Applies an analyst's preprocessing steps to the real rows, as a stream: renames in place, and
// traced functions in the sandbox (engine/sandbox), never in this process's JS realm. What comes
// back about the rows is counts only: how many failed and how, never a message or an example.
import { ApplicationFailure } from '@temporalio/activity';
import { streamTraced, TraceError, type FailureCounts, type TracedRunSummary } from '../../engine/sandbox/index.ts';
import type { PreprocessingStep } from '../../workflows/fineTune/spec.ts';

export const PREPROCESSING_ERROR = 'InvalidPreprocessing';

export interface PreprocessingReport {
  steps: { kind: string; function?: { name: string; sha256: string }; failures?: FailureCounts }[];
}

function renameColumn(rows: AsyncIterable<Record<string, unknown>>, from: string, to: string): AsyncIterable<Record<string, unknown>> {
  return (async function* () {
    for await (const row of rows) {
      if (!(from in row)) {
        yield row;
        continue;
      }
      const { [from]: value, ...rest } = row;
      yield { ...rest, [to]: value };
    }
  })();
}

/** The columns after the steps, checked up front so a typo fails before any row is read. */
export function columnsAfter(columns: readonly string[], steps: readonly PreprocessingStep[]): string[] {
  let cols = [...columns];
  for (const [i, step] of steps.entries()) {
    const needed = step.kind === 'rename' ? step.from : step.column;
    if (!cols.includes(needed)) throw ApplicationFailure.nonRetryable(`preprocessing step ${i + 1} (${step.kind}) uses column "${needed}", which does not exist (columns: ${cols.join(', ')})`, PREPROCESSING_ERROR);
    if (step.kind === 'rename') cols = cols.map((c) => (c === step.from ? step.to : c));
  }
  return cols;
}

/** The rows after every step, and a report that settles once the rows have been consumed. */
export function applyPreprocessing(
  rows: AsyncIterable<Record<string, unknown>>,
  steps: readonly PreprocessingStep[],
): { rows: AsyncIterable<Record<string, unknown>>; report: () => Promise<PreprocessingReport> } {
  let current = rows;
  const summaries: (Promise<TracedRunSummary> | undefined)[] = [];
  for (const step of steps) {
    if (step.kind === 'rename') {
      current = renameColumn(current, step.from, step.to);
      summaries.push(undefined);
      continue;
    }
    let run;
    try {
      run = streamTraced(step.fn, current, { column: step.column });
    } catch (err) {
      // The analyst's own source is not private: its problems can be quoted.
      if (err instanceof TraceError || err instanceof TypeError) throw ApplicationFailure.nonRetryable(err.message, PREPROCESSING_ERROR);
      throw err;
    }
    current = run.outputs as AsyncIterable<Record<string, unknown>>;
    summaries.push(run.summary);
  }
  return {
    rows: current,
    async report() {
      const out: PreprocessingReport = { steps: [] };
      for (const [i, step] of steps.entries()) {
        const s = await summaries[i];
        out.steps.push(s ? { kind: step.kind, function: s.function, failures: s.failures } : { kind: step.kind });
      }
      return out;
    },
  };
}
