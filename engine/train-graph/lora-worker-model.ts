// The model module a training worker thread loads for DP-LoRA (engine/train/worker-entry.ts): the
// frozen base from a Hugging Face folder, the adapters as the trained parameters, initialised from
// the keyed stream (B = 0, so step 0 is the base model) unless resuming from a checkpoint.
import { loadCheckpoint } from '../gpt2/checkpoint.ts';
import { initAdapters, type LoraSpec } from '../lora/adapters.ts';
import type { ModelFactoryResult } from '../train/worker-protocol.ts';
import { LoraGradientComputer, type LoraGradientComputerOptions } from './lora-gradient-computer.ts';

export interface LoraWorkerModelOptions extends Omit<LoraGradientComputerOptions, 'config' | 'base'> {
  /** A Hugging Face GPT-2 folder or a cached hub id: the frozen base. */
  model: string;
  lora: LoraSpec;
  /** Seeds the adapters' initialisation. */
  seed: string;
}

export async function createLoraGradientComputer(options: unknown, context: { resuming: boolean }): Promise<ModelFactoryResult> {
  const o = options as LoraWorkerModelOptions;
  if (typeof o?.model !== 'string' || !Array.isArray(o.rows) || typeof o.lora !== 'object' || typeof o.seed !== 'string') {
    throw new TypeError('LoRA worker model: options need { model: string, rows: number[][], lora: LoraSpec, seed: string }');
  }
  const { config, weights } = await loadCheckpoint(o.model);
  const model = new LoraGradientComputer({ ...o, config, base: weights });
  if (context.resuming) return { model }; // the checkpoint carries the adapters
  const adapters = initAdapters(config, o.lora, o.seed);
  return { model, initialParams: model.paramSpecs.map((s) => adapters.get(s.name)!.data) };
}
