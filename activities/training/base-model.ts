// Where a fine-tune starts: a local Hugging Face folder the training worker can open. A pretrained
// GPT-2 name (gpt2, …, gpt2-xl) is the checkpoint in the local Hugging Face cache, and refused when
// the cache lacks it (Veil never downloads, and never swaps in random weights behind a real name);
// `random:<size>` (or the random-only sizes tiny and micro) is a seeded random initialisation;
// `models/<id>` is a model Veil registered before, fetched from S3 (verified against its manifest).
import { randomUUID } from 'node:crypto';
import { createWriteStream, existsSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { pipeline } from 'node:stream/promises';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/activity';
import { gpt2Presets, hfHubCache, presetConfig, randomWeights, resolveModelDir, saveCheckpoint, ModelNotFoundError } from '../../engine/gpt2/index.ts';
import { modelPrefix, type ArtifactStore } from '../../infra/storage/index.ts';
import { RANDOM_INIT_PREFIX, RANDOM_ONLY_SIZES } from '../../contracts/fine-tune.ts';
import { Failure } from '../../contracts/failures.ts';
import { MODEL_REFERENCE_PREFIX } from '../../contracts/ids.ts';

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

/** What a base model reference starts from; `dir` is the pretrained checkpoint's cached folder. */
export type ResolvedBaseModel =
  | { initialization: 'pretrained'; size: string; dir: string }
  | { initialization: 'random'; size: string }
  | { initialization: 'registered'; modelId: string };

/** `random:<size>`, a random-only size, a pretrained size or `models/<id>`, without touching any file. */
export function baseModelInitialization(base: string): ResolvedBaseModel['initialization'] {
  if (base.startsWith(MODEL_REFERENCE_PREFIX)) return 'registered';
  if (base.startsWith(RANDOM_INIT_PREFIX) || RANDOM_ONLY_SIZES.includes(base)) return 'random';
  return 'pretrained';
}

/**
 * Resolves a base model reference on this worker, refusing (non-retryable ModelNotFound) a
 * pretrained name the local Hugging Face cache lacks, with where Veil looked and how to provide it.
 * Checks files only: the preflight calls it before any budget is held, the train activity again.
 */
export function resolveBaseModel(base: string): ResolvedBaseModel {
  const initialization = baseModelInitialization(base);
  if (initialization === 'registered') return { initialization, modelId: base.slice(MODEL_REFERENCE_PREFIX.length) };
  const size = base.startsWith(RANDOM_INIT_PREFIX) ? base.slice(RANDOM_INIT_PREFIX.length) : base;
  if (!(size in gpt2Presets)) {
    throw ApplicationFailure.nonRetryable(`unknown base model "${base}" (a pretrained GPT-2: gpt2, gpt2-medium, gpt2-large, gpt2-xl; random:<size> for random weights; or models/<id>)`, Failure.ModelNotFound);
  }
  if (initialization === 'random') return { initialization, size };
  try {
    return { initialization, size, dir: resolveModelDir(size) };
  } catch (err) {
    if (!(err instanceof ModelNotFoundError)) throw err;
    const cache = hfHubCache();
    throw ApplicationFailure.nonRetryable(
      `pretrained model "${base}" is not in the local Hugging Face cache of the training workers (looked in ${cache} for models--${size} and models--openai-community--${size}). ` +
        `Veil never downloads: put it there (e.g. \`huggingface-cli download openai-community/${size}\` on a machine with internet, then copy the cache folder; or set HF_HOME / HF_HUB_CACHE on the workers), ` +
        `or ask for random weights explicitly with base "random:${size}".`,
      Failure.ModelNotFound,
    );
  }
}

/** A local folder (config.json + model.safetensors) holding the starting weights. */
export async function materializeBaseModel(store: ArtifactStore, spec: BaseModelSpec, jobId: string): Promise<string> {
  const resolved = resolveBaseModel(spec.base);
  if (resolved.initialization === 'pretrained') return resolved.dir;
  const dir = join(tmpdir(), 'veil', 'base-models', jobId);
  // Written whole and renamed into place: config.json there means every file (one or sharded) is.
  if (existsSync(join(dir, 'config.json'))) return dir;
  if (resolved.initialization === 'registered') {
    const manifest = await store.tryReadManifest(modelPrefix(resolved.modelId));
    if (!manifest) throw ApplicationFailure.nonRetryable(`no registered model ${spec.base}`, Failure.ModelNotFound);
    return writeFolderAtomically(dir, async (partial) => {
      await mkdir(partial, { recursive: true });
      for (const path of Object.keys(manifest.entries)) {
        // Streamed to disk: a multi-GB model.safetensors is never held in memory.
        await pipeline(await store.getEntry(manifest, path), createWriteStream(join(partial, path)));
      }
    });
  }
  const config = presetConfig(resolved.size);
  return writeFolderAtomically(dir, (partial) => saveCheckpoint(partial, { config, weights: randomWeights(config, spec.seed) }));
}
