// The discrete Laplace (two-sided geometric) mechanism: integer noise with P(k) ∝ exp(−|k|/scale).
// Releasing an integer (a count, or a sum quantised to a fixed grid) plus integer noise leaves no
// low-order floating-point bits that depend on the true value, which is how floating-point Laplace
// samples leak it (Mironov 2012). Its ε for L1 sensitivity Δ (in grid units) is Δ/scale.
import type { UniformDoubles } from './laplace.ts';

/** A geometric draw on {0, 1, 2, …} with P(k) = (1 − r)·r^k, r = exp(−1/scale), by inversion. */
function geometric(source: UniformDoubles, logR: number): number {
  let u = source.nextDouble();
  while (u === 0) u = source.nextDouble();
  return Math.floor(Math.log(u) / logR);
}

/** One draw of discrete Laplace noise with the given scale (> 0, in units of the released integer). */
export function discreteLaplace(source: UniformDoubles, scale: number): number {
  if (!(scale > 0 && Number.isFinite(scale))) throw new RangeError(`discrete Laplace scale must be a positive finite number, got ${scale}`);
  const logR = -1 / scale;
  return geometric(source, logR) - geometric(source, logR);
}

/**
 * An integer released with ε-DP for L1 sensitivity `sensitivity`: exact + discrete Laplace noise,
 * unclamped (clamping at 0 would bias small counts upward; the release may be negative).
 */
export function releaseInteger(source: UniformDoubles, exact: number, epsilon: number, sensitivity = 1): number {
  if (!Number.isSafeInteger(exact)) throw new RangeError(`only integers are released this way, got ${exact}`);
  return exact + discreteLaplace(source, sensitivity / epsilon);
}

/** The half-width of the central 95% interval of discrete Laplace noise with this scale. */
export function discreteLaplace95(scale: number): number {
  // P(|noise| > k) = 2·r^(k+1)/(1 + r); the smallest k with that ≤ 5%.
  const r = Math.exp(-1 / scale);
  return Math.max(0, Math.ceil(Math.log((0.05 * (1 + r)) / 2) / Math.log(r) - 1));
}
