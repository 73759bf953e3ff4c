// GPT-2's parameters under Hugging Face's names (GPT2Model, Conv1D layout [in, out]), and the
// seeded initialisation transformers uses for a fresh model.
import { SecureStream } from '../random/secure-stream.ts';
import type { Gpt2Config } from './config.ts';

export interface WeightTensor {
  shape: number[];
  data: Float32Array;
}

/** Parameters by HF name without the 'transformer.' prefix ('wte.weight', 'h.0.attn.c_attn.weight', …). */
export type Gpt2Weights = Map<string, WeightTensor>;

/** Every parameter name and shape, in HF's order. lm_head is tied to wte and has no entry. */
export function parameterShapes(c: Gpt2Config): [string, number[]][] {
  const C = c.nEmbd;
  const out: [string, number[]][] = [
    ['wte.weight', [c.vocabSize, C]],
    ['wpe.weight', [c.nPositions, C]],
  ];
  for (let i = 0; i < c.nLayer; i++) {
    const p = `h.${i}.`;
    out.push(
      [`${p}ln_1.weight`, [C]],
      [`${p}ln_1.bias`, [C]],
      [`${p}attn.c_attn.weight`, [C, 3 * C]],
      [`${p}attn.c_attn.bias`, [3 * C]],
      [`${p}attn.c_proj.weight`, [C, C]],
      [`${p}attn.c_proj.bias`, [C]],
      [`${p}ln_2.weight`, [C]],
      [`${p}ln_2.bias`, [C]],
      [`${p}mlp.c_fc.weight`, [C, 4 * C]],
      [`${p}mlp.c_fc.bias`, [4 * C]],
      [`${p}mlp.c_proj.weight`, [4 * C, C]],
      [`${p}mlp.c_proj.bias`, [C]],
    );
  }
  out.push(['ln_f.weight', [C]], ['ln_f.bias', [C]]);
  return out;
}

export function parameterCount(c: Gpt2Config): number {
  return parameterShapes(c).reduce((n, [, s]) => n + s.reduce((a, b) => a * b, 1), 0);
}

/**
 * A fresh model, initialised like transformers' GPT2PreTrainedModel._init_weights: N(0, 0.02) for
 * embeddings and projections, N(0, 0.02/√(2·n_layer)) for the residual projections (c_proj),
 * zero biases, unit LayerNorm scales. Draws come from a ChaCha20 stream keyed by the seed.
 */
export function randomWeights(c: Gpt2Config, seed: string | number | bigint): Gpt2Weights {
  const rng = SecureStream.fromSeed(seed, 'gpt2-init');
  const residualStd = 0.02 / Math.sqrt(2 * c.nLayer);
  const weights: Gpt2Weights = new Map();
  for (const [name, shape] of parameterShapes(c)) {
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
    if (/ln_\w+\.weight$/.test(name)) data.fill(1);
    else if (name.endsWith('.bias')) data.fill(0);
    else rng.fillGaussian(data, name.endsWith('c_proj.weight') ? residualStd : 0.02);
    weights.set(name, { shape, data });
  }
  return weights;
}

// Buffers some checkpoints carry that are not parameters (the causal mask of old transformers).
const ignoredKeys = [/^h\.\d+\.attn\.(bias|masked_bias)$/, /^lm_head\.weight$/];

/**
 * Maps checkpoint keys (with or without 'transformer.') onto GPT-2's parameters, checking every
 * shape; throws on a missing, misshapen or unknown tensor. Works on loaded tensors and on mere
 * descriptions of them (a safetensors header), so a checkpoint can be checked before it is read.
 */
export function weightsFromCheckpoint<T extends { shape: readonly number[] }>(c: Gpt2Config, tensors: Map<string, T>): Map<string, T> {
  const byName = new Map<string, T>();
  for (const [key, t] of tensors) {
    const name = key.startsWith('transformer.') ? key.slice('transformer.'.length) : key;
    if (ignoredKeys.some((r) => r.test(name))) continue;
    byName.set(name, t);
  }
  const weights = new Map<string, T>();
  for (const [name, shape] of parameterShapes(c)) {
    const t = byName.get(name);
    if (!t) throw new Error(`checkpoint has no tensor ${name} (nor transformer.${name})`);
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      throw new Error(`checkpoint tensor ${name} has shape [${t.shape}], config says [${shape}]`);
    }
    weights.set(name, t);
    byName.delete(name);
  }
  if (byName.size > 0) throw new Error(`checkpoint has tensors GPT-2 does not use: ${[...byName.keys()].slice(0, 5).join(', ')}`);
  return weights;
}

/** Which checkpoint keys to read (tensors whose names map onto parameters or are ignorable). */
export function isCheckpointKey(key: string): boolean {
  const name = key.startsWith('transformer.') ? key.slice('transformer.'.length) : key;
  return !ignoredKeys.some((r) => r.test(name));
}
