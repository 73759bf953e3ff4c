// The trained GPT-2 of a run: the weights of its last committed checkpoint, with the
// configuration of the base model it started from. A DP-LoRA run's checkpoint holds only the
// adapters: its model is the frozen base with the adapters merged in (what evaluation, sampling
// and the audit run), and its adapters alone are what the registry saves in PEFT's format.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { configFromHf, loadCheckpoint, type Gpt2Checkpoint, type Gpt2Config, type Gpt2Weights } from '../../engine/gpt2/index.ts';
import type { AdapterWeights, LoraSpec } from '../../engine/lora/adapters.ts';
import { mergeLora } from '../../engine/lora/merge.ts';
import type { ArtifactStore } from '../../infra/storage/index.ts';
import { materializeBaseModel, type BaseModelSpec } from './base-model.ts';
import { downloadCheckpointParams } from './checkpoints.ts';

export interface TrainedAdapter {
  config: Gpt2Config;
  spec: LoraSpec;
  adapters: AdapterWeights;
  /** The folder of the frozen base. */
  baseDir: string;
}

async function checkpointWeights(store: ArtifactStore, jobId: string, step: number): Promise<Gpt2Weights> {
  const ckpt = await downloadCheckpointParams(store, jobId, step);
  const weights: Gpt2Weights = new Map();
  ckpt.paramSpecs.forEach((spec, i) => weights.set(spec.name, { shape: [...spec.shape], data: ckpt.params[i] }));
  return weights;
}

/** A DP-LoRA run's adapters (throws for a full fine-tune). */
export async function trainedAdapter(store: ArtifactStore, jobId: string, step: number, base: BaseModelSpec): Promise<TrainedAdapter> {
  if (!base.lora) throw new Error(`job ${jobId} is not a LoRA fine-tune`);
  const baseDir = await materializeBaseModel(store, base, jobId);
  const config = configFromHf(JSON.parse(await readFile(join(baseDir, 'config.json'), 'utf8')));
  const spec: LoraSpec = { rank: base.lora.rank, alpha: base.lora.alpha, targets: base.lora.targets };
  return { config, spec, adapters: await checkpointWeights(store, jobId, step), baseDir };
}

export async function trainedModel(store: ArtifactStore, jobId: string, step: number, base: BaseModelSpec): Promise<Gpt2Checkpoint> {
  if (base.lora) {
    const { config, spec, adapters, baseDir } = await trainedAdapter(store, jobId, step, base);
    const frozen = await loadCheckpoint(baseDir);
    return { config, weights: mergeLora(config, frozen.weights, spec, adapters) };
  }
  const dir = await materializeBaseModel(store, base, jobId);
  const config = configFromHf(JSON.parse(await readFile(join(dir, 'config.json'), 'utf8')));
  return { config, weights: await checkpointWeights(store, jobId, step) };
}
