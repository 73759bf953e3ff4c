// The model module a training worker thread loads (engine/train/worker-entry.ts): builds the GPT-2
// GradientComputer and its starting weights from structured-cloneable options.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadCheckpoint, resolveModelDir } from '../gpt2/checkpoint.ts';
import { configFromHf } from '../gpt2/config.ts';
import type { ModelFactoryResult } from '../train/worker-protocol.ts';
import { Gpt2GradientComputer, type Gpt2GradientComputerOptions } from './gpt2-gradient-computer.ts';

export interface Gpt2WorkerModelOptions extends Omit<Gpt2GradientComputerOptions, 'config'> {
  /** A Hugging Face GPT-2 folder (config.json + model.safetensors) or a cached hub id. */
  model: string;
}

export async function createGradientComputer(options: unknown, context: { resuming: boolean }): Promise<ModelFactoryResult> {
  const o = options as Gpt2WorkerModelOptions;
  if (typeof o?.model !== 'string' || !Array.isArray(o.rows)) throw new TypeError('GPT-2 worker model: options need { model: string, rows: number[][] }');
  if (context.resuming) {
    // The checkpoint carries the weights: read only the configuration.
    const dir = resolveModelDir(o.model);
    const config = configFromHf(JSON.parse(await readFile(join(dir, 'config.json'), 'utf8')));
    return { model: new Gpt2GradientComputer({ ...o, config }) };
  }
  const { config, weights } = await loadCheckpoint(o.model);
  const model = new Gpt2GradientComputer({ ...o, config });
  const initialParams = model.paramSpecs.map((s) => weights.get(s.name)!.data);
  return { model, initialParams };
}
