// Laplace noise for releasing counts and sums (the data report, the held-out loss). Each draw is
// -b·sign(u)·ln(1 − 2|u|) for u uniform in (−½, ½), from a cryptographically secure source.
// Counts are rounded after the noise is added, which also removes the low-order bits that make
// floating-point Laplace samples distinguishable (Mironov 2012).

export interface UniformDoubles {
  /** Uniform in [0, 1). */
  nextDouble(): number;
}

export function laplaceNoise(source: UniformDoubles, scale: number): number {
  if (!(scale > 0 && Number.isFinite(scale))) throw new RangeError(`Laplace scale must be a positive finite number, got ${scale}`);
  let u = source.nextDouble();
  while (u === 0) u = source.nextDouble(); // u − ½ = −½ would give ln 0
  const v = u - 0.5;
  return -scale * Math.sign(v) * Math.log(1 - 2 * Math.abs(v));
}

/** A count released with ε-DP (L1 sensitivity 1): noisy, rounded, never below 0. */
export function noisyCount(source: UniformDoubles, exact: number, epsilon: number): number {
  return Math.max(0, Math.round(exact + laplaceNoise(source, 1 / epsilon)));
}
