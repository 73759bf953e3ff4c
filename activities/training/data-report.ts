// What the analyst learns about how their preprocessing went on the real rows: per step, how many
// rows the function failed on and how (error, timeout, memory, …); how many rows had no text; how
// many were cut to maxSeqLen. Those are counting queries over private rows, so for a DP job each
// count gets discrete Laplace noise. Neighbouring datasets (README, "The privacy model") differ in
// one row, the slot count N being public: a row present or absent (an absent row is an empty slot,
// counted as a row without text) moves one unit out of one count and into another, so the vector
// of counts has L1 sensitivity 2 and the noise scale is 2/ε. Counts are released unclamped (they
// may be negative: clamping at 0 would bias small counts up) with their 95% interval. The ε is
// reserved and charged with the job's.
// A non-DP ('unlimited') job, for privileged analysts, gets the exact counts.
import { randomBytes } from 'node:crypto';
import { discreteLaplace95, releaseInteger } from '../../engine/dp/index.ts';

/** How far one row can move the vector of counts (L1): out of one count and into another. */
const DATA_REPORT_SENSITIVITY = 2;
import { SecureStream } from '../../engine/random/secure-stream.ts';
import type { DataReport } from '../../contracts/fine-tune.ts';
import type { FailureCounts } from '../../engine/sandbox/index.ts';
import { readPrivateCounts, type PrivateDataCounts } from './prepare-data.ts';
import { releaseOnce } from './releases.ts';

export async function releaseDataReport(input: { jobId: string; epsilon: number | null }): Promise<DataReport> {
  const exact = await readPrivateCounts(input.jobId);
  if (input.epsilon === null) return { epsilon: null, ...exact, preprocessing: exact.preprocessing.steps, notice: 'Exact counts (non-private job)' };
  const epsilon = input.epsilon;
  // Drawn once per job and kept: a rerun gets these same noisy counts, never fresh ones to average.
  return releaseOnce(input.jobId, 'data-report', async () => noisyReport(exact, epsilon));
}

/** One draw of the DP report (exported for tests: a job's release is drawn once, by releaseDataReport). */
export function noisyReport(exact: PrivateDataCounts, epsilon: number): DataReport {
  const rng = new SecureStream(randomBytes(32)); // fresh secret noise, never stored
  const noisy = (n: number) => releaseInteger(rng, n, epsilon, DATA_REPORT_SENSITIVITY);
  const preprocessing = exact.preprocessing.steps.map((step) => {
    if (!step.failures) return step.function ? { kind: step.kind, function: step.function } : { kind: step.kind };
    const byKind = Object.fromEntries(Object.entries(step.failures.byKind).map(([kind, n]) => [kind, noisy(n)])) as FailureCounts['byKind'];
    const count = Object.values(byKind).reduce((a, b) => a + b, 0);
    return { kind: step.kind, function: step.function, failures: { count, byKind } };
  });
  return {
    epsilon,
    skippedRows: noisy(exact.skippedRows),
    truncatedRows: noisy(exact.truncatedRows),
    preprocessing,
    notice: `Counts released with differential privacy (epsilon=${epsilon}): each is within ±${discreteLaplace95(DATA_REPORT_SENSITIVITY / epsilon)} of the true count 95% of the time (a count may come out negative)`,
  };
}
