// Where a Gpt2Model takes its weights from, a few tensors at a time: a checkpoint already in
// memory, or a checkpoint folder read tensor by tensor, so that a model can be loaded stage by
// stage without ever holding all of its raw weights at once.
import { readFile, realpath } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { FileRange } from '../onnx/index.ts';
import { resolveModelDir, safetensorFiles, type Gpt2Checkpoint } from './checkpoint.ts';
import { configFromHf, type Gpt2Config } from './config.ts';
import { openCheckpoint } from './open.ts';
import { readSafetensors, readSafetensorsHeader } from './safetensors.ts';
import { isCheckpointKey, weightsFromCheckpoint, type Gpt2Weights } from './weights.ts';

export interface WeightSource {
  config: Gpt2Config;
  /** The named parameters (HF names without 'transformer.'), as float32. */
  read(names: readonly string[]): Promise<Gpt2Weights>;
  /**
   * Parameters stored as raw float32 in files of one folder, which onnxruntime can map itself
   * instead of receiving a copy read through JavaScript. Absent for weights in memory.
   */
  files?: { folder: string; locate(name: string): FileRange | undefined };
  /** The checkpoint folder read, when there is one: another thread can open it again. */
  dir?: string;
}

export function inMemoryWeights(checkpoint: Gpt2Checkpoint): WeightSource {
  return {
    config: checkpoint.config,
    read: (names) => Promise.resolve(pick(checkpoint.weights, names)),
  };
}

/**
 * A folder (or cached hub id) whose safetensors are read only when asked. Every tensor's name and
 * shape are checked against the config up front, from the headers alone.
 */
export async function checkpointWeights(spec: string, env: NodeJS.ProcessEnv = process.env): Promise<WeightSource & { dir: string }> {
  const dir = resolveModelDir(spec, env);
  const config = configFromHf(JSON.parse(await readFile(join(dir, 'config.json'), 'utf8')));
  const located = new Map<string, { shape: number[]; file: string; key: string; range?: FileRange }>();
  const files = await safetensorFiles(dir);
  // onnxruntime maps only files inside the folder it is given and refuses symlinks that lead out
  // of it, as a Hugging Face cache snapshot's do (into ../../blobs): map the files where they are.
  const real = await Promise.all(files.map((f) => realpath(f)));
  const folder = dirname(real[0]);
  for (const [i, file] of files.entries()) {
    const header = await readSafetensorsHeader(file);
    const mappable = dirname(real[i]) === folder;
    for (const [key, info] of header.tensors) {
      if (!isCheckpointKey(key)) continue;
      const [start, end] = info.dataOffsets;
      // Only float32 can be mapped as is (safetensors is little-endian, as is every platform Node runs on).
      const range = mappable && info.dtype === 'F32' ? { file: basename(real[i]), offset: header.dataStart + start, length: end - start } : undefined;
      located.set(key, { shape: info.shape, file, key, range });
    }
  }
  const byName = weightsFromCheckpoint(config, located);
  const read = async (names: readonly string[]): Promise<Gpt2Weights> => {
    const keysByFile = new Map<string, string[]>();
    for (const name of names) {
      const where = byName.get(name);
      if (!where) throw new Error(`no GPT-2 parameter ${name}`);
      keysByFile.set(where.file, [...(keysByFile.get(where.file) ?? []), where.key]);
    }
    const loaded = new Map<string, { shape: number[]; data: Float32Array }>();
    for (const [file, keys] of keysByFile) for (const [key, t] of await readSafetensors(file, keys)) loaded.set(key, t);
    const out: Gpt2Weights = new Map();
    for (const name of names) {
      const t = loaded.get(byName.get(name)!.key);
      if (!t) throw new Error(`${name} was not read`);
      out.set(name, t);
    }
    return out;
  };
  return { config, dir, read, files: { folder, locate: (name) => byName.get(name)?.range } };
}

/** 'random:<size>[@seed]' specs live in memory; anything else is a checkpoint read on demand. */
export async function openWeights(spec: string, env: NodeJS.ProcessEnv = process.env): Promise<WeightSource> {
  return spec.startsWith('random:') ? inMemoryWeights(await openCheckpoint(spec, env)) : checkpointWeights(spec, env);
}

function pick(weights: Gpt2Weights, names: readonly string[]): Gpt2Weights {
  const out: Gpt2Weights = new Map();
  for (const name of names) {
    const t = weights.get(name);
    if (!t) throw new Error(`checkpoint has no weight ${name}`);
    out.set(name, t);
  }
  return out;
}
