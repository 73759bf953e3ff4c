// The key/value cache of generation, owned by JavaScript: preallocated for prompt + new tokens and
// fed whole to every cached run (zero-copy), with an attention bias that hides padding and slots
// not written yet. A run returns only its new tokens' keys and values, which are written in place.
import ort from 'onnxruntime-node';
import { headDim, type Gpt2Config } from './config.ts';
import { cacheInputNames, cacheOutputNames } from './graph.ts';
import { MASKED } from './model.ts';

export class KvCache {
  /** past_key_i / past_value_i for every layer, viewing the cache. */
  readonly feeds: Record<string, ort.Tensor> = {};
  private readonly keys: Float32Array[];
  private readonly values: Float32Array[];
  private readonly H: number;
  private readonly D: number;

  /** B rows of S slots each. */
  constructor(
    private readonly c: Gpt2Config,
    private readonly B: number,
    readonly S: number,
  ) {
    this.H = c.nHead;
    this.D = headDim(c);
    const size = B * this.H * S * this.D;
    this.keys = Array.from({ length: c.nLayer }, () => new Float32Array(size));
    this.values = Array.from({ length: c.nLayer }, () => new Float32Array(size));
    for (let l = 0; l < c.nLayer; l++) {
      const n = cacheInputNames(l);
      this.feeds[n.key] = new ort.Tensor('float32', this.keys[l], [B, this.H, S, this.D]);
      this.feeds[n.value] = new ort.Tensor('float32', this.values[l], [B, this.H, S, this.D]);
    }
  }

  /** Writes the first `keep` of a run's T new positions into slots [start, start + keep). */
  write(out: Record<string, ort.Tensor>, T: number, start: number, keep = T): void {
    if (start + keep > this.S) throw new RangeError(`cache slots ${start}..${start + keep} exceed its ${this.S}`);
    for (let l = 0; l < this.c.nLayer; l++) {
      const n = cacheOutputNames(l);
      copyRows(this.keys[l], this.values[l], out[n.key].data as Float32Array, out[n.value].data as Float32Array, { B: this.B, H: this.H, D: this.D, S: this.S, T, start, keep });
    }
  }
}

/**
 * Copies new keys and values [B,H,T,D] into the caches [B,H,S,D] at slots [start, start+keep):
 * one contiguous run of keep·D values per batch row and head. For one token (D = 64 in GPT-2), a
 * subarray + set per run costs more than the copy itself; plain loops then.
 */
function copyRows(
  keys: Float32Array,
  values: Float32Array,
  newKeys: Float32Array,
  newValues: Float32Array,
  d: { B: number; H: number; D: number; S: number; T: number; start: number; keep: number },
): void {
  const { B, H, D, S, T, start, keep } = d;
  const n = keep * D;
  for (let bh = 0; bh < B * H; bh++) {
    const from = bh * T * D;
    const to = (bh * S + start) * D;
    if (n >= 256) {
      keys.set(newKeys.subarray(from, from + n), to);
      values.set(newValues.subarray(from, from + n), to);
    } else {
      for (let j = 0; j < n; j++) {
        keys[to + j] = newKeys[from + j];
        values[to + j] = newValues[from + j];
      }
    }
  }
}

/** Token ids, positions and attention bias for T new tokens per row at cache slots [start, start+T) of S. */
export function stepFeeds(chunk: readonly (readonly number[])[], start: number, pad: readonly number[], S: number): Record<string, ort.Tensor> {
  const B = chunk.length;
  const T = chunk[0].length;
  const K = S + T;
  const ids = new BigInt64Array(B * T);
  const positions = new BigInt64Array(B * T);
  const bias = new Float32Array(B * T * K).fill(MASKED);
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      const slot = start + t;
      ids[b * T + t] = BigInt(chunk[b][t]);
      positions[b * T + t] = BigInt(Math.max(0, slot - pad[b]));
      const row = (b * T + t) * K;
      for (let s = pad[b]; s < start; s++) bias[row + s] = 0; // written cache slots
      for (let u = 0; u <= t; u++) if (start + u >= pad[b]) bias[row + S + u] = 0; // new tokens, causally
    }
  }
  return {
    input_ids: new ort.Tensor('int64', ids, [B, T]),
    position_ids: new ort.Tensor('int64', positions, [B, T]),
    attn_bias: new ort.Tensor('float32', bias, [B, 1, T, K]),
  };
}
