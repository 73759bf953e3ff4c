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
 * Prompt positions per forward pass while reading the prompt (GPT-2 small, 8 prompts of 64 tokens:
 * peak RSS 909 MB in one pass, 802 MB in slices of 16).
 */
const PREFILL_SLICE = 16;

export interface GenerateOptions extends SamplingOptions {
  maxNewTokens: number;
  /** Seed of the sampling streams; the same seed gives the same samples. */
  seed: string | number | bigint;
  /** Stop a row when it produces this token (default <|endoftext|>; null never stops early). */
  stopToken?: number | null;
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
  const keys = Array.from({ length: c.nLayer }, () => new Float32Array(B * H * D * S));
  const values = Array.from({ length: c.nLayer }, () => new Float32Array(B * H * S * D));
  const cacheFeeds: Record<string, ort.Tensor> = {};
  for (let l = 0; l < c.nLayer; l++) {
    const n = cacheInputNames(l);
    cacheFeeds[n.key] = new ort.Tensor('float32', keys[l], [B, H, D, S]);
    cacheFeeds[n.value] = new ort.Tensor('float32', values[l], [B, H, S, D]);
  }
  // One stream per row: a prompt's samples do not depend on what else is in the batch.
  const streams = rows.map((_, b) => SecureStream.fromSeed(`${String(options.seed)}/${b}`, 'gpt2-generate'));
  const done = rows.map(() => false);
  const filler = c.eosTokenId; // fed for left padding and for rows that have stopped; always masked or ignored

  let start = 0; // cache slot of the first token of this call
  let chunk = rows.map((r, b) => [...new Array<number>(pad[b]).fill(filler), ...r]);
  // A long prompt goes in slices: a slice's activations are what onnxruntime allocates at once,
  // and the allocator keeps much of its peak; the cache makes the slices add up to the whole.
  while (chunk[0].length > PREFILL_SLICE) {
    const slice = chunk.map((r) => r.slice(0, PREFILL_SLICE));
    const out = await model.run('cached', { ...stepFeeds(slice, start, pad, S), ...cacheFeeds });
    for (let l = 0; l < c.nLayer; l++) {
      const n = cacheOutputNames(l);
      writeCache(keys[l], values[l], out[n.key].data as Float32Array, out[n.value].data as Float32Array, { B, H, D, S, T: PREFILL_SLICE, start });
    }
    start += PREFILL_SLICE;
    chunk = chunk.map((r) => r.slice(PREFILL_SLICE));
  }
  for (let step = 0; step < options.maxNewTokens; step++) {
    const T = chunk[0].length;
    const feeds = stepFeeds(chunk, start, pad, S);
    const out = await model.run('cached', { ...feeds, ...cacheFeeds });
    if (start + T <= S) {
      for (let l = 0; l < c.nLayer; l++) {
        const n = cacheOutputNames(l);
        writeCache(keys[l], values[l], out[n.key].data as Float32Array, out[n.value].data as Float32Array, { B, H, D, S, T, start });
      }
    }
    const logits = out.logits.data as Float32Array;
    const next: number[][] = [];
    for (let b = 0; b < B; b++) {
      let id = filler;
      if (!done[b]) {
        id = sampleToken(logits.subarray(b * c.vocabSize, (b + 1) * c.vocabSize), options, streams[b]);
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
 * Copies the new keys [B,H,D,T] and values [B,H,T,D] into the caches [B,H,D,S] and [B,H,S,D].
 * Plain element loops: a key row holds T (usually 1) values, and a subarray + set per row cost
 * more than the copy itself (15–25 ms per decode step at 8 rows of GPT-2 small).
 */
function writeCache(
  keys: Float32Array,
  values: Float32Array,
  newKeys: Float32Array,
  newValues: Float32Array,
  d: { B: number; H: number; D: number; S: number; T: number; start: number },
): void {
  const { B, H, D, S, T, start } = d;
  for (let row = 0; row < B * H * D; row++) {
    const from = row * T;
    const to = row * S + start;
    for (let t = 0; t < T; t++) keys[to + t] = newKeys[from + t];
  }
  const n = T * D;
  for (let bh = 0; bh < B * H; bh++) {
    const from = bh * n;
    const to = (bh * S + start) * D;
    for (let j = 0; j < n; j++) values[to + j] = newValues[from + j];
  }
}
