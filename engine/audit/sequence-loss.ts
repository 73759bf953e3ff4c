// Per-token and per-row cross-entropy of token sequences under a GPT-2, in batches.
//
// Two engines give the same numbers: a SequenceScorer computes the token NLLs inside
// onnxruntime (fast: one float per token comes back), and a plain Gpt2Model, which only exposes
// logits, runs the same right-padded batches through its full-sequence graph and takes the
// log-sum-exp over the vocabulary in JavaScript (≈ 50k exp per position: fine for tiny models and
// for callers that hold only a Gpt2Model, such as the held-out evaluation).
import ort from 'onnxruntime-node';
import { Gpt2Model } from '../gpt2/model.ts';
import type { Gpt2Config } from '../gpt2/config.ts';
import { SequenceScorer } from './sequence-scorer.ts';
import { padBatch, planBatches, type PaddedBatch } from './token-batches.ts';

export type LossModel = Gpt2Model | SequenceScorer;

export interface TokenLossOptions {
  /**
   * Index of the first token whose NLL is wanted (≥ 1, default 1): the losses returned for a
   * sequence of length T are those of tokens fromToken … T−1, each given all tokens before it.
   */
  fromToken?: number;
  /** Padded tokens per forward pass (memory: ~2 × this × vocabulary × 4 bytes). Default 512, or 128 for a Gpt2Model. */
  maxBatchTokens?: number;
  /** Called after each batch (e.g. to heartbeat). */
  onProgress?: (sequencesDone: number, sequences: number) => void;
}

const DEFAULT_SCORER_BATCH_TOKENS = 512;
// Logits of a Gpt2Model batch come back to JavaScript: [tokens × V] floats, 25 MB per 128 tokens.
const DEFAULT_LOGITS_BATCH_TOKENS = 128;

/** NLL (nats) of each token from `fromToken` on, per sequence; an empty array where a sequence has none. */
export async function tokenLosses(model: LossModel, sequences: readonly ArrayLike<number>[], options: TokenLossOptions = {}): Promise<Float32Array[]> {
  const fromToken = options.fromToken ?? 1;
  if (!Number.isInteger(fromToken) || fromToken < 1) throw new RangeError(`fromToken must be an integer ≥ 1, got ${fromToken}`);
  const config = model.config;
  sequences.forEach((ids, i) => checkSequence(ids, i, config));
  const out: Float32Array[] = sequences.map((ids) => new Float32Array(Math.max(0, ids.length - fromToken)));
  const scored = sequences.map((_, i) => i).filter((i) => sequences[i].length > fromToken);
  const isScorer = model instanceof SequenceScorer;
  const maxTokens = options.maxBatchTokens ?? (isScorer ? DEFAULT_SCORER_BATCH_TOKENS : DEFAULT_LOGITS_BATCH_TOKENS);
  const batches = planBatches(scored.map((i) => sequences[i].length), maxTokens).map((group) => group.map((k) => scored[k]));
  let done = 0;
  for (const members of batches) {
    const batch = padBatch(sequences, members, config.eosTokenId);
    const nll = isScorer ? await model.batchNll(batch) : await nllFromLogits(model, batch, fromToken);
    members.forEach((i, b) => {
      const dst = out[i];
      // Token k is predicted at position k − 1.
      for (let k = fromToken; k < batch.lengths[b]; k++) dst[k - fromToken] = nll[b * batch.T + k - 1];
    });
    done += members.length;
    options.onProgress?.(done, scored.length);
  }
  return out;
}

/** Mean cross-entropy (nats per predicted token) of one row under the model; 0 for a row shorter than 2 tokens. */
export async function rowLoss(model: LossModel, ids: ArrayLike<number>): Promise<number> {
  return (await rowLosses(model, [ids]))[0];
}

/** rowLoss of many rows, batched. */
export async function rowLosses(model: LossModel, rows: readonly ArrayLike<number>[], options: Omit<TokenLossOptions, 'fromToken'> = {}): Promise<number[]> {
  return (await tokenLosses(model, rows, options)).map(mean);
}

/** Sum of the NLLs (the log-perplexity of Carlini et al., in nats). */
export function sum(values: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < values.length; i++) s += values[i];
  return s;
}

function mean(values: Float32Array): number {
  return values.length === 0 ? 0 : sum(values) / values.length;
}

function checkSequence(ids: ArrayLike<number>, index: number, config: Gpt2Config): void {
  if (ids.length > config.nPositions) throw new RangeError(`sequence ${index}: length ${ids.length} exceeds the model's ${config.nPositions} positions`);
  for (let t = 0; t < ids.length; t++) {
    const id = ids[t];
    if (!Number.isInteger(id) || id < 0 || id >= config.vocabSize) throw new RangeError(`sequence ${index}: ${id} at ${t} is not a token id of a ${config.vocabSize}-token vocabulary`);
  }
}

/** The Gpt2Model path: logits [B, T, V] back to JavaScript, log-sum-exp per needed position. */
async function nllFromLogits(model: Gpt2Model, batch: PaddedBatch, fromToken: number): Promise<Float32Array> {
  const { B, T } = batch;
  const V = model.config.vocabSize;
  const out = await model.run('full', {
    input_ids: new ort.Tensor('int64', batch.inputIds, [B, T]),
    position_ids: new ort.Tensor('int64', batch.positionIds, [B, T]),
    attn_bias: new ort.Tensor('float32', batch.causalBias, [B, 1, T, T]),
  });
  const logits = out.logits.data as Float32Array;
  const nll = new Float32Array(B * T);
  for (let b = 0; b < B; b++) {
    for (let t = fromToken - 1; t + 1 < batch.lengths[b]; t++) {
      const p = b * T + t;
      const row = logits.subarray(p * V, (p + 1) * V);
      nll[p] = logSumExp(row) - row[Number(batch.targets[p])];
    }
  }
  return nll;
}

function logSumExp(row: Float32Array): number {
  let max = -Infinity;
  for (let v = 0; v < row.length; v++) if (row[v] > max) max = row[v];
  let s = 0;
  for (let v = 0; v < row.length; v++) s += Math.exp(row[v] - max);
  return max + Math.log(s);
}
