// Every activity Veil runs, grouped by the task queue that executes it. Activities are where side
// effects live: S3 I/O, sandbox runs and compute (which calls into engine/).
import { datasetActivities } from './datasets/index.ts';

/** Light activities: validation, S3 bookkeeping, sandboxed preprocessing. Run on the `veil` queue. */
export function lightActivities() {
  return {
    ...datasetActivities(),
  };
}

/** Heavy activities: training, evaluation, sampling, audit. Run on the `veil-gpu` queue. */
export function gpuActivities() {
  return {
  };
}
