// GPT-2 hyper-parameters, the published sizes (and their short names small … xl), tiny test
// sizes, and the Hugging Face config.json they are read from and written to.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';

export interface Gpt2Config {
  vocabSize: number;
  nPositions: number;
  nEmbd: number;
  nLayer: number;
  nHead: number;
  layerNormEpsilon: number;
  bosTokenId: number;
  eosTokenId: number;
}

const base = { vocabSize: 50257, nPositions: 1024, layerNormEpsilon: 1e-5, bosTokenId: 50256, eosTokenId: 50256 };

export const gpt2Presets = {
  gpt2: { ...base, nEmbd: 768, nLayer: 12, nHead: 12 },
  'gpt2-medium': { ...base, nEmbd: 1024, nLayer: 24, nHead: 16 },
  'gpt2-large': { ...base, nEmbd: 1280, nLayer: 36, nHead: 20 },
  'gpt2-xl': { ...base, nEmbd: 1600, nLayer: 48, nHead: 25 },
  /** The golden-test size: the real vocabulary, everything else tiny. */
  'tiny': { ...base, nPositions: 128, nEmbd: 64, nLayer: 2, nHead: 4 },
  /** Even smaller, for unit tests that do not need real token ids. */
  'micro': { ...base, vocabSize: 512, nPositions: 64, nEmbd: 32, nLayer: 2, nHead: 2, bosTokenId: 511, eosTokenId: 511 },
} satisfies Record<string, Gpt2Config>;

export type Gpt2PresetName = keyof typeof gpt2Presets;

/** Short names for OpenAI's four sizes, as the product names them: `xl` is `gpt2-xl`. */
export const gpt2SizeAliases = {
  small: 'gpt2',
  medium: 'gpt2-medium',
  large: 'gpt2-large',
  xl: 'gpt2-xl',
} as const satisfies Record<string, Gpt2PresetName>;

export type Gpt2SizeName = Gpt2PresetName | keyof typeof gpt2SizeAliases;

/** Whether `name` is a preset or an alias of one. */
export function isGpt2Size(name: string): name is Gpt2SizeName {
  return Object.hasOwn(gpt2Presets, name) || Object.hasOwn(gpt2SizeAliases, name);
}

/** The preset (and Hugging Face hub) name of a size: `large` → `gpt2-large`; a preset name stays as it is. */
export function canonicalGpt2Size(name: string): Gpt2PresetName {
  if (Object.hasOwn(gpt2SizeAliases, name)) return gpt2SizeAliases[name as keyof typeof gpt2SizeAliases];
  if (Object.hasOwn(gpt2Presets, name)) return name as Gpt2PresetName;
  throw new Error(`unknown GPT-2 size '${name}' (known: ${[...Object.keys(gpt2SizeAliases), ...Object.keys(gpt2Presets)].join(', ')})`);
}

/** The configuration of a preset or alias (a copy). */
export function presetConfig(name: string): Gpt2Config {
  return { ...gpt2Presets[canonicalGpt2Size(name)] };
}

export function headDim(c: Gpt2Config): number {
  return c.nEmbd / c.nHead;
}

export function validateConfig(c: Gpt2Config): Gpt2Config {
  if (!Number.isInteger(c.nEmbd / c.nHead)) throw new Error(`GPT-2 config: n_embd ${c.nEmbd} is not divisible by n_head ${c.nHead}`);
  for (const [k, v] of Object.entries(c)) if (!(Number.isFinite(v) && v >= 0)) throw new Error(`GPT-2 config: ${k}=${v} is invalid`);
  return c;
}

// The fields of Hugging Face's GPT2Config that change the maths. Others (dropout, summary_*) are
// training- or head-specific and are ignored on read and written with HF's defaults.
const hfSchema = z.object({
  model_type: z.string().optional(),
  vocab_size: z.number().int().positive(),
  n_positions: z.number().int().positive(),
  n_embd: z.number().int().positive(),
  n_layer: z.number().int().positive(),
  n_head: z.number().int().positive(),
  n_inner: z.number().int().positive().nullable().optional(),
  activation_function: z.string().optional(),
  layer_norm_epsilon: z.number().positive().optional(),
  scale_attn_weights: z.boolean().optional(),
  scale_attn_by_inverse_layer_idx: z.boolean().optional(),
  reorder_and_upcast_attn: z.boolean().optional(),
  bos_token_id: z.number().int().nullable().optional(),
  eos_token_id: z.number().int().nullable().optional(),
  tie_word_embeddings: z.boolean().optional(),
});

/** Reads a parsed config.json; refuses variants this engine would compute differently. */
export function configFromHf(json: unknown): Gpt2Config {
  const hf = hfSchema.parse(json);
  if (hf.model_type !== undefined && hf.model_type !== 'gpt2') throw new Error(`config.json: model_type '${hf.model_type}' is not gpt2`);
  if (hf.n_inner != null && hf.n_inner !== 4 * hf.n_embd) throw new Error(`config.json: n_inner=${hf.n_inner} (only 4·n_embd is supported)`);
  const act = hf.activation_function ?? 'gelu_new';
  if (act !== 'gelu_new') throw new Error(`config.json: activation_function '${act}' is not supported (GPT-2 uses gelu_new)`);
  if (hf.scale_attn_weights === false) throw new Error('config.json: scale_attn_weights=false is not supported');
  if (hf.scale_attn_by_inverse_layer_idx) throw new Error('config.json: scale_attn_by_inverse_layer_idx is not supported');
  if (hf.tie_word_embeddings === false) throw new Error('config.json: untied lm_head is not supported (GPT-2 ties it to wte)');
  return validateConfig({
    vocabSize: hf.vocab_size,
    nPositions: hf.n_positions,
    nEmbd: hf.n_embd,
    nLayer: hf.n_layer,
    nHead: hf.n_head,
    layerNormEpsilon: hf.layer_norm_epsilon ?? 1e-5,
    bosTokenId: hf.bos_token_id ?? 50256,
    eosTokenId: hf.eos_token_id ?? 50256,
  });
}

/** config.json as transformers writes it for GPT2LMHeadModel. */
export function configToHf(c: Gpt2Config): Record<string, unknown> {
  return {
    architectures: ['GPT2LMHeadModel'],
    model_type: 'gpt2',
    vocab_size: c.vocabSize,
    n_positions: c.nPositions,
    n_ctx: c.nPositions,
    n_embd: c.nEmbd,
    n_layer: c.nLayer,
    n_head: c.nHead,
    n_inner: null,
    activation_function: 'gelu_new',
    resid_pdrop: 0.1,
    embd_pdrop: 0.1,
    attn_pdrop: 0.1,
    layer_norm_epsilon: c.layerNormEpsilon,
    initializer_range: 0.02,
    scale_attn_weights: true,
    scale_attn_by_inverse_layer_idx: false,
    reorder_and_upcast_attn: false,
    use_cache: true,
    bos_token_id: c.bosTokenId,
    eos_token_id: c.eosTokenId,
    tie_word_embeddings: true,
    torch_dtype: 'float32',
  };
}

/**
 * The configuration a size names (`large`, `gpt2-large`, `tiny`, …) or the config.json of a local
 * Hugging Face GPT-2 folder (the folder or the file itself): how a benchmark or a random
 * initialisation picks a shape without a preset of its own.
 */
export function gpt2ConfigOf(spec: string): Gpt2Config {
  if (isGpt2Size(spec)) return presetConfig(spec);
  const file = existsSync(spec) && statSync(spec).isDirectory() ? join(spec, 'config.json') : spec;
  if (!existsSync(file)) throw new Error(`'${spec}' is neither a GPT-2 size (${[...Object.keys(gpt2SizeAliases), ...Object.keys(gpt2Presets)].join(', ')}) nor a folder with a config.json`);
  return configFromHf(JSON.parse(readFileSync(file, 'utf8')));
}
