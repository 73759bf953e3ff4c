// Hugging Face's sharded safetensors layout, as save_pretrained writes it for a model larger than
// `max_shard_size`: model-00001-of-0000n.safetensors … plus model.safetensors.index.json
// ({metadata: {total_size}, weight_map: tensor → file}). Tensors are grouped in order and never
// split; one larger than the limit gets a shard of its own (as in huggingface_hub's
// split_state_dict_into_shards). transformers' from_pretrained opens the folder unchanged.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeSafetensors } from './safetensors.ts';
import type { WeightTensor } from './weights.ts';

export const SINGLE_FILE = 'model.safetensors';
export const INDEX_FILE = 'model.safetensors.index.json';
/** Sets the shard size of saved models in bytes. */
export const MODEL_SHARD_BYTES_ENV = 'VEIL_MODEL_SHARD_BYTES';
export const DEFAULT_MODEL_SHARD_BYTES = 512 * 1024 * 1024;

const SHARD_FILE = /^model-\d{5}-of-\d{5}\.safetensors$/;

/** transformers' name for shard k (0-based) of n. */
export function hfShardName(k: number, n: number): string {
  return `model-${String(k + 1).padStart(5, '0')}-of-${String(n).padStart(5, '0')}.safetensors`;
}

/** The files of a model folder that hold or index its weights (what a download must fetch besides config.json). */
export function isModelWeightFile(file: string): boolean {
  return file === SINGLE_FILE || file === INDEX_FILE || SHARD_FILE.test(file);
}

/** The shard size to use: $VEIL_MODEL_SHARD_BYTES, else 512 MiB. */
export function modelShardBytes(env: NodeJS.ProcessEnv = process.env): number {
  const text = env[MODEL_SHARD_BYTES_ENV];
  if (text === undefined || text === '') return DEFAULT_MODEL_SHARD_BYTES;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 1) throw new Error(`${MODEL_SHARD_BYTES_ENV}=${text} is not a whole number of bytes`);
  return value;
}

/** Groups named tensors into shards of at most `maxShardBytes` (in order; an oversized tensor alone). */
export function planHfShards<T extends { data: Float32Array }>(tensors: readonly [string, T][], maxShardBytes: number): [string, T][][] {
  const shards: [string, T][][] = [];
  let current: [string, T][] = [];
  let size = 0;
  for (const entry of tensors) {
    const bytes = entry[1].data.byteLength;
    if (current.length > 0 && size + bytes > maxShardBytes) {
      shards.push(current);
      current = [];
      size = 0;
    }
    current.push(entry);
    size += bytes;
  }
  if (current.length > 0 || shards.length === 0) shards.push(current);
  return shards;
}

/**
 * Writes the weights as model.safetensors when they fit in one shard, else as transformers'
 * shards and index. Returns the files written. Each shard is written tensor by tensor.
 */
export async function writeModelSafetensors(dir: string, tensors: readonly [string, WeightTensor][], maxShardBytes = modelShardBytes()): Promise<string[]> {
  const shards = planHfShards(tensors, maxShardBytes);
  if (shards.length === 1) {
    await writeSafetensors(join(dir, SINGLE_FILE), tensors);
    return [SINGLE_FILE];
  }
  const weightMap: Record<string, string> = {};
  const files: string[] = [];
  for (const [k, shard] of shards.entries()) {
    const file = hfShardName(k, shards.length);
    await writeSafetensors(join(dir, file), shard);
    for (const [name] of shard) weightMap[name] = file;
    files.push(file);
  }
  const totalSize = tensors.reduce((n, [, t]) => n + t.data.byteLength, 0);
  await writeFile(join(dir, INDEX_FILE), JSON.stringify({ metadata: { total_size: totalSize }, weight_map: weightMap }, null, 2) + '\n');
  return [...files, INDEX_FILE];
}
