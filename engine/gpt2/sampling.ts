// Choosing the next token from logits: greedy at temperature 0, otherwise Hugging Face's order of
// warpers (temperature, then top-k, then top-p) and one uniform draw from a seeded SecureStream.
import type { SecureStream } from '../random/secure-stream.ts';

export interface SamplingOptions {
  /** 0 = greedy (argmax). */
  temperature: number;
  /** Keep the k most likely tokens (ties at the k-th value are kept, as in transformers). 0 = off. */
  topK?: number;
  /** Keep the smallest set of most likely tokens whose probability reaches p. 1 = off. */
  topP?: number;
}

export function validateSampling(o: SamplingOptions): void {
  if (!(o.temperature >= 0) || !Number.isFinite(o.temperature)) throw new RangeError(`temperature must be ≥ 0, got ${o.temperature}`);
  if (o.topK !== undefined && (!Number.isInteger(o.topK) || o.topK < 0)) throw new RangeError(`top-k must be a non-negative integer, got ${o.topK}`);
  if (o.topP !== undefined && !(o.topP > 0 && o.topP <= 1)) throw new RangeError(`top-p must be in (0, 1], got ${o.topP}`);
}

/** Index of the largest logit; the first one on ties, as torch.argmax. */
export function argmax(logits: Float32Array): number {
  let best = 0;
  let bestValue = logits[0];
  for (let i = 1; i < logits.length; i++) {
    if (logits[i] > bestValue) {
      bestValue = logits[i];
      best = i;
    }
  }
  return best;
}

function kthLargest(values: Float32Array, k: number): number {
  // A copy sorted descending; V log V once per sampled token is cheap next to a forward pass.
  const sorted = Float32Array.from(values).sort().reverse();
  return sorted[Math.min(k, sorted.length) - 1];
}

export function sampleToken(logits: Float32Array, options: SamplingOptions, rng: SecureStream): number {
  if (options.temperature === 0) return argmax(logits);
  const V = logits.length;
  const scaled = new Float64Array(V);
  for (let i = 0; i < V; i++) scaled[i] = logits[i] / options.temperature;
  const topK = options.topK ?? 0;
  if (topK > 0 && topK < V) {
    const threshold = kthLargest(Float32Array.from(scaled), topK);
    for (let i = 0; i < V; i++) if (scaled[i] < threshold) scaled[i] = -Infinity;
  }
  let max = -Infinity;
  for (let i = 0; i < V; i++) if (scaled[i] > max) max = scaled[i];
  const probs = new Float64Array(V);
  let total = 0;
  for (let i = 0; i < V; i++) {
    probs[i] = Math.exp(scaled[i] - max);
    total += probs[i];
  }
  const topP = options.topP ?? 1;
  if (topP < 1) {
    // transformers drops the tokens whose ascending cumulative probability stays ≤ 1 - p, which
    // keeps the most likely tokens until their mass reaches p (and always the top one).
    const order = Uint32Array.from({ length: V }, (_, i) => i).sort((a, b) => probs[a] - probs[b]);
    let cumulative = 0;
    for (let r = 0; r < V - 1; r++) {
      const i = order[r];
      cumulative += probs[i] / total;
      if (cumulative > 1 - topP) break;
      probs[i] = 0;
    }
    total = probs.reduce((a, b) => a + b, 0);
  }
  let u = rng.nextDouble() * total;
  for (let i = 0; i < V; i++) {
    if (probs[i] === 0) continue;
    u -= probs[i];
    if (u < 0) return i;
  }
  // Rounding left a sliver: the last token with mass.
  for (let i = V - 1; i >= 0; i--) if (probs[i] > 0) return i;
  return argmax(logits);
}
