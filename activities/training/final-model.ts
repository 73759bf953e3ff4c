// The trained GPT-2 of a run: the weights of its last committed checkpoint, with the
// configuration of the base model it started from.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { configFromHf, type Gpt2Checkpoint, type Gpt2Weights } from '../../engine/gpt2/index.ts';
import type { ArtifactStore } from '../../infra/storage/index.ts';
import { materializeBaseModel, type BaseModelSpec } from './base-model.ts';
import { downloadCheckpoint } from './checkpoints.ts';

export async function trainedModel(store: ArtifactStore, jobId: string, step: number, base: BaseModelSpec): Promise<Gpt2Checkpoint> {
  const dir = await materializeBaseModel(store, base, jobId);
  const config = configFromHf(JSON.parse(await readFile(join(dir, 'config.json'), 'utf8')));
  const ckpt = await downloadCheckpoint(store, jobId, step);
  const weights: Gpt2Weights = new Map();
  ckpt.paramSpecs.forEach((spec, i) => weights.set(spec.name, { shape: [...spec.shape], data: ckpt.params[i] }));
  return { config, weights };
}
