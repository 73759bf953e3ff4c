// Applies an analyst's preprocessing steps to the real rows, as a stream: renames in place, and
// traced functions in the sandbox (engine/sandbox), never in this process's JS realm. What comes
// back about the rows is counts only: how many failed and how, never a message or an example.
// Traced steps run in killable workers, one fixed time slot per row and step, padded to the
// dataset's public row count, so how long this takes says nothing about the rows.
import { ApplicationFailure } from '@temporalio/activity';
import { streamPacedSteps, TraceError, type FailureCounts, type PacedStep, type PacingOptions, type TracedRunSummary } from '../../engine/sandbox/index.ts';
import type { PreprocessingStep } from '../../contracts/fine-tune.ts';

export const PREPROCESSING_ERROR = 'InvalidPreprocessing';

export interface PreprocessingReport {
  steps: { kind: string; function?: { name: string; sha256: string }; failures?: FailureCounts }[];
}

function renameColumn(row: unknown, from: string, to: string): unknown {
  if (row === null || typeof row !== 'object' || !(from in row)) return row;
  const { [from]: value, ...rest } = row as Record<string, unknown>;
  // Spreading keeps symbol keys (the slot a row came from).
  return { ...rest, [to]: value };
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

/**
 * The rows after every step, and a report that settles once the rows have been consumed.
 * `pacing.rowCount` must be the dataset's PUBLIC row count: the run is padded to it.
 */
export function applyPreprocessing(
  rows: AsyncIterable<Record<string, unknown>>,
  steps: readonly PreprocessingStep[],
  pacing: PacingOptions = {},
): { rows: AsyncIterable<Record<string, unknown>>; report: () => Promise<PreprocessingReport>; progress: () => number } {
  const paced: PacedStep[] = steps.map((step) => (step.kind === 'rename'
    ? { kind: 'transform', apply: (row: unknown) => renameColumn(row, step.from, step.to) }
    : { kind: 'traced', fn: step.fn, column: step.column }));
  let run;
  try {
    run = streamPacedSteps(paced, rows, pacing);
  } catch (err) {
    // The analyst's own source is not private: its problems can be quoted.
    if (err instanceof TraceError || err instanceof TypeError) throw ApplicationFailure.nonRetryable(err.message, PREPROCESSING_ERROR);
    throw err;
  }
  const summaries: (Promise<TracedRunSummary> | undefined)[] = [];
  let next = 0;
  for (const step of paced) summaries.push(step.kind === 'traced' ? run.summaries[next++] : undefined);
  return {
    rows: run.outputs as AsyncIterable<Record<string, unknown>>,
    /** Elapsed fraction of the padded duration: the only progress a heartbeat may carry. */
    progress: () => run.progress(),
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
