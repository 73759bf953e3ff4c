// Per-example clipping to L2 norm C over all parameters together. Gradient computers (the GPT-2
// graphs, or a JS model) use this exact factor so that every implementation bounds one example's
// contribution to the summed gradient by C — the sensitivity the Gaussian noise is scaled to.

/** Guards the division for a zero gradient; the same constant as Opacus, so clipped norms stay ≤ C. */
export const CLIP_EPSILON = 1e-6;

/** min(1, C / (‖g‖ + 1e-6)): the factor one example's gradient is multiplied by. */
export function clipFactor(norm: number, maxNorm: number): number {
  if (!(norm >= 0)) throw new RangeError(`clipFactor: norm must be a non-negative number, got ${norm}`);
  return Math.min(1, maxNorm / (norm + CLIP_EPSILON));
}

/** The L2 norm over several buffers taken as one vector (accumulated in float64). */
export function globalNorm(buffers: readonly (Float32Array | Float64Array)[]): number {
  let squares = 0;
  for (const buffer of buffers) {
    for (let i = 0; i < buffer.length; i++) squares += buffer[i] * buffer[i];
  }
  return Math.sqrt(squares);
}

/**
 * Adds one example's gradient, clipped to maxNorm, into the running sums. Returns the example's
 * norm before clipping. For JS gradient computers; graph implementations apply clipFactor in-graph.
 */
export function accumulateClipped(
  exampleGrad: readonly (Float32Array | Float64Array)[],
  into: readonly Float32Array[],
  maxNorm: number,
): number {
  const norm = globalNorm(exampleGrad);
  const factor = clipFactor(norm, maxNorm);
  for (let k = 0; k < exampleGrad.length; k++) {
    const source = exampleGrad[k];
    const target = into[k];
    for (let i = 0; i < source.length; i++) target[i] += factor * source[i];
  }
  return norm;
}
