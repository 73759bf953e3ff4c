// Autoregressive generation with a key/value cache that JavaScript owns. Prompts of different
// lengths run as one left-padded batch: the cache is preallocated for prompt + new tokens, each
// call feeds it whole (zero-copy) with an attention bias that hides padding and unwritten slots,
// and only the new tokens' keys and values come back to be written in place.
import ort from 'onnxruntime-node';
import { SecureStream } from '../random/secure-stream.ts';
import { headDim } from './config.ts';
import { cacheInputNames, cacheOutputNames } from './graph.ts';
import { MASKED, type Gpt2Model } from './model.ts';
import { sampleToken, validateSampling, type SamplingOptions } from './sampling.ts';

/**
 * Rows (prompts × positions) per forward pass while reading the prompts: a pass's activations are
 * what onnxruntime allocates at once (GPT-2 small, 8 prompts of 64 tokens: peak RSS 909 MB in one
 * pass, 802 MB in passes of 128 rows), while every pass reads all the weights (one prompt of 64
 * tokens in 4 passes instead of 1 costs 3 reads of the model, ~0.1 s).
 */
const PREFILL_ROWS = 128;

export interface GenerateOptions extends SamplingOptions {
  maxNewTokens: number;
  /** Seed of the sampling streams; the same seed gives the same samples. */
  seed: string | number | bigint;
  /** Stop a row when it produces this token (default <|endoftext|>; null never stops early). */
  stopToken?: number | null;
  /** Prompt rows (prompts × positions) per forward pass while reading the prompts (default 128): memory against passes. */
  prefillRows?: number;
}

export interface GenerateResult {
  /** New token ids per prompt, without the stop token. */
  tokens: number[][];
  /** Why each row ended. */
  finish: ('stop' | 'length')[];
}

export async function generateTokens(model: Gpt2Model, prompts: readonly (readonly number[])[], options: GenerateOptions): Promise<GenerateResult> {
  validateSampling(options);
  if (!Number.isInteger(options.maxNewTokens) || options.maxNewTokens < 0) throw new RangeError(`max new tokens must be a non-negative integer, got ${options.maxNewTokens}`);
  if (options.prefillRows !== undefined && !(Number.isInteger(options.prefillRows) && options.prefillRows > 0)) throw new RangeError(`prefill rows must be a positive integer, got ${options.prefillRows}`);
  const c = model.config;
  const B = prompts.length;
  const stopToken = options.stopToken === undefined ? c.eosTokenId : options.stopToken;
  // An empty prompt starts from <|endoftext|>, as GPT-2 was trained to begin a document.
  const rows = prompts.map((p) => (p.length === 0 ? [c.bosTokenId] : [...p]));
  const tokens: number[][] = rows.map(() => []);
  const finish: ('stop' | 'length')[] = rows.map(() => 'length');
  if (B === 0 || options.maxNewTokens === 0) return { tokens, finish };

  const P = Math.max(...rows.map((r) => r.length));
  const longest = Math.max(...rows.map((r) => r.length)) + options.maxNewTokens;
  if (longest - 1 > c.nPositions) throw new RangeError(`prompt + new tokens (${longest}) exceed the model's ${c.nPositions} positions`);
  const pad = rows.map((r) => P - r.length);
  const S = P + options.maxNewTokens - 1; // the last sampled token is never fed back
  const H = c.nHead;
  const D = headDim(c);
  const keys = Array.from({ length: c.nLayer }, () => new Float32Array(B * H * S * D));
  const values = Array.from({ length: c.nLayer }, () => new Float32Array(B * H * S * D));
  const cacheFeeds: Record<string, ort.Tensor> = {};
  for (let l = 0; l < c.nLayer; l++) {
    const n = cacheInputNames(l);
    cacheFeeds[n.key] = new ort.Tensor('float32', keys[l], [B, H, S, D]);
    cacheFeeds[n.value] = new ort.Tensor('float32', values[l], [B, H, S, D]);
  }
  // One stream per row: a prompt's samples do not depend on what else is in the batch.
  const streams = rows.map((_, b) => SecureStream.fromSeed(`${String(options.seed)}/${b}`, 'gpt2-generate'));
  const done = rows.map(() => false);
  const greedy = options.temperature === 0;
  const filler = c.eosTokenId; // fed for left padding and for rows that have stopped; always masked or ignored

  let start = 0; // cache slot of the first token of this call
  let chunk = rows.map((r, b) => [...new Array<number>(pad[b]).fill(filler), ...r]);
  // Long prompts go in slices: a slice's activations are what onnxruntime allocates at once, and
  // the allocator keeps much of its peak; the cache makes the slices add up to the whole.
  const slice = Math.max(1, Math.floor((options.prefillRows ?? PREFILL_ROWS) / B));
  while (chunk[0].length > slice) {
    // A slice's logits are not used: the argmax is the smallest thing the head can return.
    const out = await model.run('cached', { ...stepFeeds(chunk.map((r) => r.slice(0, slice)), start, pad, S), ...cacheFeeds }, 'greedy');
    for (let l = 0; l < c.nLayer; l++) {
      const n = cacheOutputNames(l);
      writeCache(keys[l], values[l], out[n.key].data as Float32Array, out[n.value].data as Float32Array, { B, H, D, S, T: slice, start });
    }
    start += slice;
    chunk = chunk.map((r) => r.slice(slice));
  }
  for (let step = 0; step < options.maxNewTokens; step++) {
    const T = chunk[0].length;
    const feeds = stepFeeds(chunk, start, pad, S);
    // Greedy decoding takes the argmax computed in the graph: B ids instead of B × V logits.
    const out = await model.run('cached', { ...feeds, ...cacheFeeds }, greedy ? 'greedy' : 'logits');
    if (start + T <= S) {
      for (let l = 0; l < c.nLayer; l++) {
        const n = cacheOutputNames(l);
        writeCache(keys[l], values[l], out[n.key].data as Float32Array, out[n.value].data as Float32Array, { B, H, D, S, T, start });
      }
    }
    const next: number[][] = [];
    for (let b = 0; b < B; b++) {
      let id = filler;
      if (!done[b]) {
        id = greedy ? Number((out.greedy.data as BigInt64Array)[b]) : sampleToken((out.logits.data as Float32Array).subarray(b * c.vocabSize, (b + 1) * c.vocabSize), options, streams[b]);
        if (id === stopToken) {
          done[b] = true;
          finish[b] = 'stop';
        } else tokens[b].push(id);
      }
      next.push([id]);
    }
    if (done.every(Boolean)) break;
    start += T;
    chunk = next;
  }
  return { tokens, finish };
}

/** Token ids, positions and attention bias for T new tokens at cache slots [start, start+T). */
function stepFeeds(chunk: number[][], start: number, pad: number[], S: number): Record<string, ort.Tensor> {
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

/**
 * Copies the new keys and values [B,H,T,D] into the caches [B,H,S,D] at slots [start, start+T):
 * one contiguous run of T·D values per batch row and head. For one token (T·D = 64 in GPT-2), a
 * subarray + set per run costs more than the copy itself; plain loops then.
 */
function writeCache(
  keys: Float32Array,
  values: Float32Array,
  newKeys: Float32Array,
  newValues: Float32Array,
  d: { B: number; H: number; D: number; S: number; T: number; start: number },
): void {
  const { B, H, D, S, T, start } = d;
  const n = T * D;
  for (let bh = 0; bh < B * H; bh++) {
    const from = bh * n;
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
