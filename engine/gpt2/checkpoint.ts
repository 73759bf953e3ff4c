// GPT-2 checkpoints in Hugging Face's folder layout: config.json + model.safetensors (or shards
// listed in model.safetensors.index.json), found either as a folder or, for a hub id such as
// 'gpt2', in the local Hugging Face cache. Nothing is ever downloaded.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { gpt2TokenizerFiles } from '../tokenizer/hf-files.ts';
import { configFromHf, configToHf, type Gpt2Config } from './config.ts';
import { readSafetensors, readSafetensorsHeader } from './safetensors.ts';
import { writeModelSafetensors } from './sharded.ts';
import { isCheckpointKey, parameterShapes, weightsFromCheckpoint, type Gpt2Weights, type WeightTensor } from './weights.ts';

export interface Gpt2Checkpoint {
  config: Gpt2Config;
  weights: Gpt2Weights;
}

export class ModelNotFoundError extends Error {
  override name = 'ModelNotFoundError';
  readonly exitCode = 2;
}

/** The Hugging Face hub cache folder, as huggingface_hub resolves it. */
export function hfHubCache(env: NodeJS.ProcessEnv = process.env): string {
  if (env.HF_HUB_CACHE) return env.HF_HUB_CACHE;
  if (env.HUGGINGFACE_HUB_CACHE) return env.HUGGINGFACE_HUB_CACHE;
  const hfHome = env.HF_HOME ?? join(env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'huggingface');
  return join(hfHome, 'hub');
}

function snapshotOf(repoDir: string): string | undefined {
  const snapshots = join(repoDir, 'snapshots');
  if (!existsSync(snapshots)) return undefined;
  const refMain = join(repoDir, 'refs', 'main');
  if (existsSync(refMain)) {
    const dir = join(snapshots, readFileSync(refMain, 'utf8').trim());
    if (existsSync(join(dir, 'config.json'))) return dir;
  }
  // No usable ref: the most recently written snapshot that has a config.
  const candidates = readdirSync(snapshots)
    .map((name) => join(snapshots, name))
    .filter((dir) => existsSync(join(dir, 'config.json')))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  return candidates[0];
}

/**
 * A folder holding config.json: `spec` itself, a hub-cache repo folder (models--org--name), or a
 * hub id ('gpt2', 'openai-community/gpt2-medium') looked up in the local cache.
 */
export function resolveModelDir(spec: string, env: NodeJS.ProcessEnv = process.env): string {
  if (existsSync(spec) && statSync(spec).isDirectory()) {
    if (existsSync(join(spec, 'config.json'))) return spec;
    const snap = snapshotOf(spec);
    if (snap) return snap;
    throw new ModelNotFoundError(`${spec} has no config.json (expected a Hugging Face model folder)`);
  }
  if (!/^[\w.-]+(\/[\w.-]+)?$/.test(spec)) throw new ModelNotFoundError(`model ${spec}: no such folder`);
  const cache = hfHubCache(env);
  // The GPT-2 checkpoints moved to the openai-community org; caches may hold either name.
  const ids = spec.includes('/') ? [spec] : [spec, `openai-community/${spec}`];
  for (const id of ids) {
    const snap = snapshotOf(join(cache, `models--${id.replace('/', '--')}`));
    if (snap) return snap;
  }
  throw new ModelNotFoundError(
    `model '${spec}' is neither a folder nor in the Hugging Face cache at ${cache} (looked for ${ids.map((id) => `models--${id.replace('/', '--')}`).join(', ')}). ` +
      'Veil never downloads: pass --model DIR with config.json and model.safetensors, or set HF_HOME / HF_HUB_CACHE.',
  );
}

/** The safetensors files of a model folder: model.safetensors, or the shards its index lists. */
export async function safetensorFiles(dir: string): Promise<string[]> {
  const single = join(dir, 'model.safetensors');
  if (existsSync(single)) return [single];
  const index = join(dir, 'model.safetensors.index.json');
  if (existsSync(index)) {
    const map = (JSON.parse(await readFile(index, 'utf8')) as { weight_map: Record<string, string> }).weight_map;
    return [...new Set(Object.values(map))].map((f) => join(dir, f));
  }
  const hint = existsSync(join(dir, 'pytorch_model.bin')) ? ' (it has pytorch_model.bin: convert it to safetensors first)' : '';
  throw new ModelNotFoundError(`${dir} has no model.safetensors${hint}`);
}

/** Loads a GPT-2 checkpoint (config and float32 weights) from a folder or a cached hub id. */
export async function loadCheckpoint(spec: string, env: NodeJS.ProcessEnv = process.env): Promise<Gpt2Checkpoint & { dir: string }> {
  const dir = resolveModelDir(spec, env);
  const config = configFromHf(JSON.parse(await readFile(join(dir, 'config.json'), 'utf8')));
  const tensors = new Map<string, WeightTensor>();
  for (const file of await safetensorFiles(dir)) {
    const header = await readSafetensorsHeader(file);
    const keys = [...header.tensors.keys()].filter(isCheckpointKey);
    for (const [name, t] of await readSafetensors(file, keys)) tensors.set(name, t);
  }
  return { config, weights: weightsFromCheckpoint(config, tensors), dir };
}

export interface SaveOptions {
  /** Also write GPT-2's tokenizer files (vocab.json, merges.txt, …). Default true. */
  tokenizer?: boolean;
  /** Weights larger than this go in transformers' shards (default: $VEIL_MODEL_SHARD_BYTES, else 512 MiB). */
  maxShardBytes?: number;
}

/**
 * Writes the checkpoint as transformers' save_pretrained does for GPT2LMHeadModel: config.json,
 * model.safetensors (or, when larger than the shard size, model-0000k-of-0000n.safetensors and
 * model.safetensors.index.json) with 'transformer.'-prefixed keys (lm_head is tied and not stored),
 * generation_config.json and the tokenizer files.
 */
export async function saveCheckpoint(dir: string, ckpt: Gpt2Checkpoint, options: SaveOptions = {}): Promise<void> {
  await mkdir(dir, { recursive: true });
  const { config, weights } = ckpt;
  await writeFile(join(dir, 'config.json'), JSON.stringify(configToHf(config), null, 2) + '\n');
  const generation = { bos_token_id: config.bosTokenId, eos_token_id: config.eosTokenId };
  await writeFile(join(dir, 'generation_config.json'), JSON.stringify(generation, null, 2) + '\n');
  const ordered = parameterShapes(config).map(([name]): [string, WeightTensor] => {
    const t = weights.get(name);
    if (!t) throw new Error(`saveCheckpoint: missing weight ${name}`);
    return [`transformer.${name}`, t];
  });
  await writeModelSafetensors(dir, ordered, options.maxShardBytes);
  if (options.tokenizer ?? true) {
    for (const [name, text] of Object.entries(gpt2TokenizerFiles(config.nPositions))) await writeFile(join(dir, name), text);
  }
}
