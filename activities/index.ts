// Every activity Veil runs, grouped by the task queue that executes it. Activities are where side
// effects live: S3 I/O, sandbox runs and compute (which calls into engine/).

/** Light activities: validation, S3 bookkeeping, sandboxed preprocessing. Run on the `veil` queue. */
export function lightActivities() {
  return {
  };
}

/** Heavy activities: training, evaluation, sampling, audit. Run on the `veil-gpu` queue. */
export function gpuActivities() {
  return {
  };
}
