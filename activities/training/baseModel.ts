// Where a fine-tune starts: a local Hugging Face folder the training worker can open. A GPT-2 size
// name uses the checkpoint in the local Hugging Face cache when there is one (Veil never
// downloads) and otherwise a seeded random initialisation of that size; `models/<id>` is a model
// Veil registered before, fetched from S3 (verified against its manifest).
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/activity';
import { gpt2Presets, presetConfig, randomWeights, resolveModelDir, saveCheckpoint, ModelNotFoundError } from '../../engine/gpt2/index.ts';
import { modelPrefix, type ArtifactStore } from '../../infra/storage/index.ts';

export interface BaseModelSpec {
  base: string;
  seed: string;
}

/** A local folder (config.json + model.safetensors) holding the starting weights. */
export async function materializeBaseModel(store: ArtifactStore, spec: BaseModelSpec, jobId: string): Promise<string> {
  const dir = join(tmpdir(), 'veil', 'base-models', jobId);
  if (existsSync(join(dir, 'model.safetensors'))) return dir;
  if (spec.base.startsWith('models/')) {
    const prefix = modelPrefix(spec.base.slice('models/'.length));
    const manifest = await store.tryReadManifest(prefix);
    if (!manifest) throw ApplicationFailure.nonRetryable(`no registered model ${spec.base}`, 'ModelNotFound');
    await mkdir(dir, { recursive: true });
    for (const path of Object.keys(manifest.entries)) {
      const parts: Buffer[] = [];
      for await (const chunk of await store.getEntry(manifest, path)) parts.push(chunk as Buffer);
      await writeFile(join(dir, path), Buffer.concat(parts));
    }
    return dir;
  }
  if (!(spec.base in gpt2Presets)) {
    throw ApplicationFailure.nonRetryable(`unknown base model "${spec.base}" (a GPT-2 size: ${Object.keys(gpt2Presets).join(', ')}; or models/<id>)`, 'ModelNotFound');
  }
  try {
    return resolveModelDir(spec.base); // the real pretrained checkpoint, when cached locally
  } catch (err) {
    if (!(err instanceof ModelNotFoundError)) throw err;
  }
  const config = presetConfig(spec.base);
  await saveCheckpoint(dir, { config, weights: randomWeights(config, spec.seed) });
  return dir;
}
