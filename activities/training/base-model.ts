// Where a fine-tune starts: a local Hugging Face folder the training worker can open. A pretrained
// GPT-2 name (gpt2, …, gpt2-xl) is the checkpoint in the local Hugging Face cache, and refused when
// the cache lacks it (Veil never downloads, and never swaps in random weights behind a real name);
// `random:<size>` (or the random-only sizes tiny and micro) is a seeded random initialisation;
// `models/<id>` is a model Veil registered before, fetched from S3 (verified against its manifest).
import { createHash, randomUUID } from 'node:crypto';
import { createWriteStream, existsSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { pipeline } from 'node:stream/promises';
import { dirname, join } from 'node:path';
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { LoraSpec } from '../../engine/lora/adapters.ts';
import { z } from 'zod';
import { canonicalGpt2Size, hfHubCache, isGpt2Size, loadCheckpoint, presetConfig, randomWeights, resolveModelDir, saveCheckpoint, ModelNotFoundError, type Gpt2Config } from '../../engine/gpt2/index.ts';
import { mergeLora } from '../../engine/lora/merge.ts';
import { PEFT_CONFIG_FILE, PEFT_WEIGHTS_FILE, readPeftAdapter } from '../../engine/lora/peft-adapter.ts';
import { modelPrefix, type ArtifactStore, type Manifest } from '../../infra/storage/index.ts';
import { RANDOM_INIT_PREFIX, RANDOM_ONLY_SIZES } from '../../contracts/fine-tune.ts';
import { Failure } from '../../contracts/failures.ts';
import { MODEL_REFERENCE_PREFIX } from '../../contracts/ids.ts';
import { runOffThread } from '../shared/off-thread.ts';

/** Where a registered DP-LoRA model keeps its PEFT adapter (activities/models/registry.ts). */
export const ADAPTER_DIR = 'adapter';

export interface BaseModelSpec {
  base: string;
  seed: string;
  /** A DP-LoRA run: its checkpoints hold the adapters, the base stays as `base` names it. */
  lora?: LoraSpec & { merge?: boolean };
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
  const named = base.startsWith(RANDOM_INIT_PREFIX) ? base.slice(RANDOM_INIT_PREFIX.length) : base;
  if (!isGpt2Size(named)) {
    throw ApplicationFailure.nonRetryable(`unknown base model "${base}" (a pretrained GPT-2: gpt2, gpt2-medium, gpt2-large, gpt2-xl, or small, medium, large, xl; random:<size> for random weights; or models/<id>)`, Failure.ModelNotFound);
  }
  // small, medium, large and xl name the Hugging Face sizes: the cache holds them under those names.
  const size = canonicalGpt2Size(named);
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

// Drawing a random base and merging an adapter run in a worker thread of their own, which writes
// the folder itself: for xl that is 1.56 B Gaussians (minutes of single-threaded ChaCha20 and
// Box-Muller) or a 6 GB load and merge, and on the activity's thread they would stop its heartbeats
// and every other activity of the worker for as long. The weights never cross back: the thread
// holds the one copy, writes it to disk and ends, which frees it at once. The limit only bounds a
// thread that hangs; nothing in normal use comes near it.
const THIS_MODULE = new URL(import.meta.url);
const OFF_THREAD_LIMIT_MS = 6 * 60 * 60 * 1000;

/** What the drawing thread needs: the folder to write and the initialisation. */
export interface RandomModelDraw {
  dir: string;
  config: Gpt2Config;
  seed: string;
}

/** The thread's side of drawRandomModel (exported for the worker thread only). */
export async function writeRandomModel({ dir, config, seed }: RandomModelDraw): Promise<void> {
  await saveCheckpoint(dir, { config, weights: randomWeights(config, seed) });
}

/**
 * Writes a seeded random GPT-2 (randomWeights: the same values for the same config and seed) as a
 * Hugging Face folder at `dir`, drawn in a worker thread: this thread's event loop stays free.
 */
export async function drawRandomModel(draw: RandomModelDraw): Promise<void> {
  await runOffThread<RandomModelDraw, void>(THIS_MODULE, 'writeRandomModel', draw, OFF_THREAD_LIMIT_MS);
}

/** What the merging thread needs: the frozen base's folder, the PEFT adapter's folder and where to write. */
export interface AdapterMerge {
  baseDir: string;
  adapterDir: string;
  dir: string;
}

/** The thread's side of a registered adapter's merge (exported for the worker thread only). */
export async function writeMergedAdapter({ baseDir, adapterDir, dir }: AdapterMerge): Promise<void> {
  const frozen = await loadCheckpoint(baseDir);
  const { spec, weights } = await readPeftAdapter(adapterDir, frozen.config);
  await saveCheckpoint(dir, { config: frozen.config, weights: mergeLora(frozen.config, frozen.weights, spec, weights) });
}

const HEARTBEAT_EVERY_MS = 2_000;

/**
 * Runs `work`, heartbeating meanwhile when called from an activity (not from a compute thread):
 * fetching, drawing or merging a large model takes minutes, longer than the GPU activities'
 * heartbeat timeout, and an attempt timed out there is retried while its thread still works, again
 * and again, each holding another copy of the model. The heartbeats carry no details: the
 * activity's own next heartbeat carries its progress again.
 */
async function heartbeating<T>(work: () => Promise<T>): Promise<T> {
  let ctx: Context | undefined;
  try {
    ctx = Context.current();
  } catch {
    return work(); // not in an activity: a compute thread, whose activity heartbeats for it
  }
  const beat = (): void => ctx.heartbeat();
  const timer = setInterval(beat, HEARTBEAT_EVERY_MS);
  try {
    return await work();
  } finally {
    clearInterval(timer);
  }
}

/** A local folder (config.json + model.safetensors) holding the starting weights. */
export function materializeBaseModel(store: ArtifactStore, spec: BaseModelSpec, jobId: string): Promise<string> {
  return heartbeating(() => materializeBaseModelHere(store, spec, jobId));
}

async function materializeBaseModelHere(store: ArtifactStore, spec: BaseModelSpec, jobId: string): Promise<string> {
  const resolved = resolveBaseModel(spec.base);
  if (resolved.initialization === 'pretrained') return resolved.dir;
  // A random base is a function of its size and seed: jobs and activities that ask for the same one
  // on this machine share one folder (for xl, minutes of drawing and 6 GB each); a registered one
  // is fetched per job.
  const name = resolved.initialization === 'random' ? `random-${resolved.size}-${createHash('sha256').update(spec.seed).digest('hex').slice(0, 16)}` : jobId;
  const dir = join(tmpdir(), 'veil', 'base-models', name);
  // Written whole and renamed into place: config.json there means every file (one or sharded) is.
  if (existsSync(join(dir, 'config.json'))) return dir;
  if (resolved.initialization === 'registered') return materializeRegisteredModelHere(store, resolved.modelId, dir);
  const config = presetConfig(resolved.size);
  return writeFolderAtomically(dir, (partial) => drawRandomModel({ dir: partial, config, seed: spec.seed }));
}

/** What a registered DP-LoRA model's veil.json says of its adapter (activities/models/registry.ts). */
const adapterMetaSchema = z.object({ base: z.string(), adapter: z.object({ seed: z.string(), merged: z.boolean() }).optional() });

async function download(store: ArtifactStore, manifest: Manifest, path: string, to: string): Promise<void> {
  await mkdir(dirname(to), { recursive: true });
  // Streamed to disk: a multi-GB model.safetensors is never held in memory.
  await pipeline(await store.getEntry(manifest, path), createWriteStream(to));
}

/**
 * A registered model as a local GPT-2 folder with full weights, written whole at `dir`. A DP-LoRA
 * model stored as a PEFT adapter alone is merged onto its base here, in a worker thread (the base is
 * materialised the same way, so an adapter on a registered model works too); one stored with
 * merged weights is read as any model.
 */
export function materializeRegisteredModel(store: ArtifactStore, modelId: string, dir: string): Promise<string> {
  return heartbeating(() => materializeRegisteredModelHere(store, modelId, dir));
}

async function materializeRegisteredModelHere(store: ArtifactStore, modelId: string, dir: string): Promise<string> {
  if (existsSync(join(dir, 'config.json'))) return dir;
  const manifest = await store.tryReadManifest(modelPrefix(modelId));
  if (!manifest) throw ApplicationFailure.nonRetryable(`no registered model ${MODEL_REFERENCE_PREFIX}${modelId}`, Failure.ModelNotFound);
  const meta = adapterMetaSchema.safeParse(manifest.meta);
  const adapter = meta.success ? meta.data.adapter : undefined;
  return writeFolderAtomically(dir, async (partial) => {
    await mkdir(partial, { recursive: true });
    if (!adapter || adapter.merged) {
      for (const path of Object.keys(manifest.entries)) await download(store, manifest, path, join(partial, path));
      return;
    }
    const adapterDir = `${partial}.adapter`;
    try {
      for (const file of [PEFT_CONFIG_FILE, PEFT_WEIGHTS_FILE]) await download(store, manifest, `${ADAPTER_DIR}/${file}`, join(adapterDir, file));
      const baseDir = await materializeBaseModelHere(store, { base: meta.data!.base, seed: adapter.seed }, `${modelId}-base`);
      await runOffThread<AdapterMerge, void>(THIS_MODULE, 'writeMergedAdapter', { baseDir, adapterDir, dir: partial }, OFF_THREAD_LIMIT_MS);
    } finally {
      await rm(adapterDir, { recursive: true, force: true });
    }
  });
}
