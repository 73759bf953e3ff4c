// Where a fine-tune starts: a local Hugging Face folder the training worker can open. A GPT-2 size
// name uses the checkpoint in the local Hugging Face cache when there is one (Veil never
// downloads) and otherwise a seeded random initialisation of that size; `models/<id>` is a model
// Veil registered before, fetched from S3 (verified against its manifest).
import { randomUUID } from 'node:crypto';
import { createWriteStream, existsSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { pipeline } from 'node:stream/promises';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/activity';
import { gpt2Presets, presetConfig, randomWeights, resolveModelDir, saveCheckpoint, ModelNotFoundError } from '../../engine/gpt2/index.ts';
import { modelPrefix, type ArtifactStore } from '../../infra/storage/index.ts';

export interface BaseModelSpec {
  base: string;
  seed: string;
}

/**
 * Writes a folder under a private name and renames it to `dir` once complete, so `dir` either
 * does not exist or is whole: a worker SIGKILLed mid-write (or two attempts of one job on one
 * machine) must not leave a half-written model.safetensors that every later attempt would trust.
 */
async function writeFolderAtomically(dir: string, fill: (partial: string) => Promise<void>): Promise<string> {
  const partial = `${dir}.partial-${randomUUID()}`;
  try {
    await fill(partial);
    try {
      await rename(partial, dir);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw err; // else another attempt finished first: same content
    }
  } finally {
    await rm(partial, { recursive: true, force: true });
  }
  return dir;
}

/** A local folder (config.json + model.safetensors) holding the starting weights. */
export async function materializeBaseModel(store: ArtifactStore, spec: BaseModelSpec, jobId: string): Promise<string> {
  const dir = join(tmpdir(), 'veil', 'base-models', jobId);
  if (existsSync(join(dir, 'model.safetensors'))) return dir;
  if (spec.base.startsWith('models/')) {
    const prefix = modelPrefix(spec.base.slice('models/'.length));
    const manifest = await store.tryReadManifest(prefix);
    if (!manifest) throw ApplicationFailure.nonRetryable(`no registered model ${spec.base}`, 'ModelNotFound');
    return writeFolderAtomically(dir, async (partial) => {
      await mkdir(partial, { recursive: true });
      for (const path of Object.keys(manifest.entries)) {
        // Streamed to disk: a multi-GB model.safetensors is never held in memory.
        await pipeline(await store.getEntry(manifest, path), createWriteStream(join(partial, path)));
      }
    });
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
  return writeFolderAtomically(dir, (partial) => saveCheckpoint(partial, { config, weights: randomWeights(config, spec.seed) }));
}
