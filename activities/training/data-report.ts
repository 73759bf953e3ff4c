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
import { SecureStream } from '../../engine/random/secure-stream.ts';
import type { DataReport } from '../../contracts/fine-tune.ts';
import type { FailureCounts } from '../../engine/sandbox/index.ts';
import { readPrivateCounts, type PrivateDataCounts } from './prepare-data.ts';
import { releaseOnce } from './releases.ts';

/** How far one row can move the vector of counts (L1): out of one count and into another. */
const DATA_REPORT_SENSITIVITY = 2;

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
    // The total is the sum of the noisy kinds (post-processing, free): its interval is wider.
    const count = Object.values(byKind).reduce((a, b) => a + b, 0);
    return { kind: step.kind, function: step.function, failures: { count, byKind } };
  });
  const scale = DATA_REPORT_SENSITIVITY / epsilon;
  const kinds = Math.max(0, ...preprocessing.map((step) => ('failures' in step && step.failures ? Object.keys(step.failures.byKind).length : 0)));
  const total = kinds > 1 ? `, and a function's failures (the sum of its ${kinds} kinds) within ±${sumOfDiscreteLaplace95(scale, kinds)}` : '';
  return {
    epsilon,
    skippedRows: noisy(exact.skippedRows),
    truncatedRows: noisy(exact.truncatedRows),
    preprocessing,
    interval95: { count: discreteLaplace95(scale), total: kinds > 1 ? sumOfDiscreteLaplace95(scale, kinds) : discreteLaplace95(scale) },
    notice:
      `Counts released with differential privacy (epsilon=${epsilon}), unclamped: each is within ±${discreteLaplace95(scale)} of the true count 95% of the time${total}; ` +
      'a count may come out negative, and a small one says little more than "within the interval of 0"',
  };
}

/**
 * The half-width of the central 95% interval of a sum of `k` independent discrete Laplace draws
 * of this scale. Each draw is G − G' with G, G' geometric (P(n) = (1 − r)·rⁿ, r = e^(−1/scale)),
 * so the sum is X − Y with X, Y negative binomial (k, 1 − r): P(S = s) = Σ_y P(X = s + y)·P(Y = y).
 * For k = 1 it is discreteLaplace95(scale).
 */
export function sumOfDiscreteLaplace95(scale: number, k: number): number {
  const r = Math.exp(-1 / scale);
  // The negative binomial's pmf until its tail is below 1e-13 (P(n + 1) = P(n)·r·(n + k)/(n + 1)).
  const pmf: number[] = [];
  let p = (1 - r) ** k;
  let mass = 0;
  for (let n = 0; mass < 1 - 1e-13 && n < 50_000_000; n++) {
    pmf.push(p);
    mass += p;
    p *= (r * (n + k)) / (n + 1);
  }
  const pointMass = (s: number) => {
    let sum = 0;
    for (let y = 0; y + s < pmf.length; y++) sum += pmf[y + s] * pmf[y];
    return sum;
  };
  // Symmetric: P(|S| ≤ t) = P(0) + 2·Σ_{s=1..t} P(s); the smallest t that reaches 95%.
  let covered = pointMass(0);
  let t = 0;
  while (covered < 0.95 && t < pmf.length) {
    t += 1;
    covered += 2 * pointMass(t);
  }
  return t;
}
