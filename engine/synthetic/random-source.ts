// What the twin needs from a random stream. engine/random's SecureStream (a keyed ChaCha20
// stream) provides it; noise must come from such a stream, never from Math.random.
export interface RandomSource {
  /** Uniform in [0, 1). */
  nextDouble(): number;
  /** Standard normal. */
  nextGaussian(): number;
}

/** An index drawn with probability proportional to `weights` (negative weights count as 0). */
export function sampleIndex(weights: ArrayLike<number>, total: number, rng: RandomSource): number {
  let target = rng.nextDouble() * total;
  let last = -1;
  for (let i = 0; i < weights.length; i++) {
    const w = weights[i];
    if (w <= 0) continue;
    last = i;
    target -= w;
    if (target < 0) return i;
  }
  return last; // rounding at the end of the range
}

/** k distinct positions out of n, uniformly (partial Fisher–Yates). */
export function sampleDistinct(n: number, k: number, rng: RandomSource): number[] {
  const positions = Array.from({ length: n }, (_, i) => i);
  const count = Math.min(k, n);
  for (let i = 0; i < count; i++) {
    const j = i + Math.floor(rng.nextDouble() * (n - i));
    [positions[i], positions[j]] = [positions[j], positions[i]];
  }
  return positions.slice(0, count);
}
