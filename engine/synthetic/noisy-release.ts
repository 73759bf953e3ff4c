// The two release shapes of the twin: a histogram over public bins (noise on every bin), and
// counts over keys proposed by the data (noise, then only keys above the threshold survive).
import type { RandomSource } from './random-source.ts';
import type { Release } from './budget.ts';

/** Noisy counts for bins that exist whatever the data (lengths, numeric ranges, true/false/null). */
export function noisyHistogram(counts: ArrayLike<number>, sigma: number, rng: RandomSource): number[] {
  return Array.from(counts, (c) => round3(c + sigma * rng.nextGaussian()));
}

/**
 * Noisy counts of data-proposed keys, only those above the release's threshold. Noise is drawn in
 * sorted key order, so a fit is reproducible from the random stream whatever the row order.
 */
export function thresholdedRelease<K extends string | number>(
  counts: ReadonlyMap<K, number>, release: Release, rng: RandomSource,
): [K, number][] {
  if (release.threshold === undefined) throw new Error(`internal: release ${release.what} has no threshold`);
  const keys = [...counts.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const kept: [K, number][] = [];
  for (const key of keys) {
    const noisy = counts.get(key)! + release.sigma * rng.nextGaussian();
    if (noisy > release.threshold) kept.push([key, round3(noisy)]);
  }
  return kept;
}

/** Released counts are post-processed to 3 decimals: smaller models, no privacy effect. */
function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
