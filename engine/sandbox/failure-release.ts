// Failure counts of a real run, released under DP so an analyst may see them.
//
// The exact counts are statistics of private rows: a function that throws exactly when a row
// mentions a name turns "1 error" into a membership test. Each row adds 1 to at most one kind, so
// the vector of counts has L2 sensitivity 1 and the Gaussian mechanism with σ = 1/μ is μ-GDP,
// hence (ε, δ)-DP for μ = gdpMuFor(ε, δ). The caller charges (ε, δ) to the ledger before showing
// the result; the exact counts stay with the data owner.

import { FAILURE_KINDS, type FailureKind } from './guest-harness.ts';
import type { FailureCounts } from './run-summary.ts';
import { gdpMuFor } from '../synthetic/gaussian-dp.ts';
import type { RandomSource } from '../synthetic/random-source.ts';

export interface ReleasedFailureCounts {
  /** Noisy counts, rounded and clipped at 0 (post-processing). */
  readonly byKind: Record<FailureKind, number>;
  readonly count: number;
  readonly epsilon: number;
  readonly delta: number;
  readonly sigma: number;
}

export function releaseFailureCounts(
  failures: FailureCounts,
  options: { readonly epsilon: number; readonly delta: number; readonly rng: RandomSource },
): ReleasedFailureCounts {
  const sigma = 1 / gdpMuFor(options.epsilon, options.delta);
  const byKind = Object.fromEntries(FAILURE_KINDS.map((kind) =>
    [kind, Math.max(0, Math.round(failures.byKind[kind] + sigma * options.rng.nextGaussian()))])) as Record<FailureKind, number>;
  const count = FAILURE_KINDS.reduce((s, kind) => s + byKind[kind], 0);
  return { byKind, count, epsilon: options.epsilon, delta: options.delta, sigma };
}
