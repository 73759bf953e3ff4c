// Privacy accounting for the synthetic twin: Gaussian mechanisms composed exactly as μ-GDP, and
// thresholds for releasing keys (words, bigrams, categories) that the data itself proposes.
//
// Why Gaussian DP: every release of the twin is a Gaussian mechanism on a vector of counts with
// L2 sensitivity 1 (one row's contribution is bounded by construction). The composition of
// Gaussian mechanisms with noise σ_i is exactly a single Gaussian mechanism with
// μ² = Σ (1/σ_i)² (Dong, Roth & Su 2019, "Gaussian Differential Privacy"), and μ-GDP converts to
// (ε, δ) exactly (Balle & Wang 2018). That is tighter than zCDP's conversion (about 1.6× more
// μ² for ε = 1, δ = 5·10⁻⁷) and has no slack to argue about.

import { erfc, normalCdf } from '../privacy/erfc.ts';

// The accountants' special functions (engine/privacy) serve here too: one erfc for all of Veil.
export { erfc, normalCdf };

const SQRT1_2 = Math.SQRT1_2;

/** Standard normal upper tail 1 − Φ(x), accurate far into the tail. */
export function normalTail(x: number): number {
  return 0.5 * erfc(x * SQRT1_2);
}

/** The x with normalTail(x) = p, for p in (0, 0.5]. */
export function normalTailInverse(p: number): number {
  if (!(p > 0 && p <= 0.5)) throw new RangeError(`normalTailInverse: p must be in (0, 0.5], got ${p}`);
  let lo = 0;
  let hi = 40;
  for (let i = 0; i < 200; i++) {
    const mid = (lo + hi) / 2;
    if (normalTail(mid) > p) lo = mid;
    else hi = mid;
  }
  return hi;
}

/** δ(ε) of μ-GDP: Φ(−ε/μ + μ/2) − e^ε Φ(−ε/μ − μ/2). */
export function gdpDelta(mu: number, epsilon: number): number {
  if (mu <= 0) return 0;
  const a = -epsilon / mu + mu / 2;
  const b = -epsilon / mu - mu / 2;
  return Math.max(0, normalCdf(a) - Math.exp(epsilon) * normalCdf(b));
}

/** The largest μ whose μ-GDP guarantee implies (ε, δ)-DP. */
export function gdpMuFor(epsilon: number, delta: number): number {
  if (!(epsilon > 0) || !(delta > 0 && delta < 1)) throw new RangeError('gdpMuFor: need ε > 0 and 0 < δ < 1');
  let lo = 1e-8;
  let hi = 1e3;
  for (let i = 0; i < 200; i++) {
    const mid = Math.sqrt(lo * hi);
    if (gdpDelta(mid, epsilon) <= delta) lo = mid;
    else hi = mid;
  }
  return lo;
}

/**
 * Threshold for releasing keys that come from the data. Each row adds weight 1/√m to each of at
 * most `maxKeysPerRow` keys (m of them, L2 norm 1), counts get N(0, σ²) noise, and only keys whose
 * noisy count exceeds the threshold are released. A key that only the added row has (a rare name)
 * is then released with probability at most m·Φ̄((T − 1/√m)/σ); we make that ≤ δ for every m.
 */
export function releaseThreshold(sigma: number, maxKeysPerRow: number, delta: number): number {
  const exposure = (t: number) => {
    let worst = 0;
    for (let m = 1; m <= maxKeysPerRow; m++) worst = Math.max(worst, m * normalTail((t - 1 / Math.sqrt(m)) / sigma));
    return worst;
  };
  let lo = 0;
  let hi = 1 + sigma * 40;
  for (let i = 0; i < 200; i++) {
    const mid = (lo + hi) / 2;
    if (exposure(mid) > delta) lo = mid;
    else hi = mid;
  }
  return hi;
}
