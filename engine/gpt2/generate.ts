// Autoregressive generation with a key/value cache that JavaScript owns (kv-cache.ts). Prompts of
// different lengths run as one left-padded batch. Greedy decoding of one prompt with a draft model
// goes through speculative.ts instead, which gives the same tokens in fewer float32 passes.
import { SecureStream } from '../random/secure-stream.ts';
import { KvCache, stepFeeds } from './kv-cache.ts';
import type { Gpt2Model } from './model.ts';
import { sampleToken, validateSampling, type SamplingOptions } from './sampling.ts';
import { speculativeGreedy } from './speculative.ts';

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
  /**
   * An int8 draft of `model` (Gpt2Model precision 'int8-draft'): greedy decoding of a single prompt
   * then checks the draft's guesses several at a time (speculative.ts). Same tokens, fewer reads
   * of the float32 weights; ignored when sampling or for several prompts.
   */
  draft?: Gpt2Model;
  /** Tokens the draft proposes per check (default speculative.ts's). */
  draftTokens?: number;
}

export interface GenerateResult {
  /** New token ids per prompt, without the stop token. */
  tokens: number[][];
  /** Why each row ended. */
  finish: ('stop' | 'length')[];
  /** With a draft: float32 passes after the prompt, guesses proposed and guesses kept. */
  speculation?: { checks: number; proposed: number; accepted: number };
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
  const slice = Math.max(1, Math.floor((options.prefillRows ?? PREFILL_ROWS) / B));
  if (options.draft && B === 1 && options.temperature === 0) {
    return speculativeGreedy(model, options.draft, rows[0], { maxNewTokens: options.maxNewTokens, stopToken, prefillSlice: slice, draftTokens: options.draftTokens });
  }
  const pad = rows.map((r) => P - r.length);
  const S = P + options.maxNewTokens - 1; // the last sampled token is never fed back
  const cache = new KvCache(c, B, S);
  // One stream per row: a prompt's samples do not depend on what else is in the batch.
  const streams = rows.map((_, b) => SecureStream.fromSeed(`${String(options.seed)}/${b}`, 'gpt2-generate'));
  const done = rows.map(() => false);
  const greedy = options.temperature === 0;
  const filler = c.eosTokenId; // fed for left padding and for rows that have stopped; always masked or ignored

  let start = 0; // cache slot of the first token of this call
  let chunk = rows.map((r, b) => [...new Array<number>(pad[b]).fill(filler), ...r]);
  // Long prompts go in slices: a slice's activations are what onnxruntime allocates at once, and
  // the allocator keeps much of its peak; the cache makes the slices add up to the whole.
  while (chunk[0].length > slice) {
    // A slice's logits are not used: the argmax is the smallest thing the head can return.
    const out = await model.run('cached', { ...stepFeeds(chunk.map((r) => r.slice(0, slice)), start, pad, S), ...cache.feeds }, 'greedy');
    cache.write(out, slice, start);
    start += slice;
    chunk = chunk.map((r) => r.slice(slice));
  }
  for (let step = 0; step < options.maxNewTokens; step++) {
    const T = chunk[0].length;
    const feeds = stepFeeds(chunk, start, pad, S);
    // Greedy decoding takes the argmax computed in the graph: B ids instead of B × V logits.
    const out = await model.run('cached', { ...feeds, ...cache.feeds }, greedy ? 'greedy' : 'logits');
    if (start + T <= S) cache.write(out, T, start);
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
