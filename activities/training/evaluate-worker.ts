// The held-out evaluation's compute, run in a worker thread by evaluate.ts (compute-worker.ts):
// loading the trained weights, building the scoring session and running it block their thread for
// seconds on a large model. Returns each usable test row's mean token loss, in row order; the DP
// release of their mean stays with the activity.
import { rowLosses, SequenceScorer } from '../../engine/audit/index.ts';
import type { ComputeProgress } from '../shared/compute-worker.ts';
import { sharedStore } from '../shared/resources.ts';
import type { BaseModelSpec } from './base-model.ts';
import { trainedModel } from './final-model.ts';
import { downloadTokenizedRows, usableRows } from './tokenized-rows.ts';

/** Rows per scoring call, with a progress report (a heartbeat) after each. */
const BATCH = 32;

export interface HeldOutInput {
  jobId: string;
  checkpointStep: number;
  base: BaseModelSpec;
  dataPrefix: string;
}

export interface HeldOutLosses {
  /** Mean token loss of each usable test row (private: they never leave the activity unreleased). */
  losses: Float64Array;
  /** The number of test slots (public), usable or not. */
  slots: number;
}

export async function heldOutLosses(input: HeldOutInput, progress: ComputeProgress): Promise<HeldOutLosses> {
  const store = await sharedStore();
  const scorer = await SequenceScorer.create(await trainedModel(store, input.jobId, input.checkpointStep, input.base));
  try {
    const slots = await downloadTokenizedRows(store, input.dataPrefix, 'test.tokens');
    const rows = usableRows(slots);
    const losses = new Float64Array(rows.length);
    for (let i = 0; i < rows.length; i += BATCH) {
      losses.set(await rowLosses(scorer, rows.slice(i, i + BATCH)), i);
      progress.report(); // no count: how many test slots hold a row is private
    }
    return { losses, slots: slots.length };
  } finally {
    await scorer.release();
  }
}
