// Training checkpoints in S3: runs/<jobId>/checkpoints/step-<n>/ holds the checkpoint (weights,
// optimizer, sampler and noise counters, accountant state) as safetensors shards of bounded size
// (engine/train/checkpoint-shards.ts), uploaded in parallel straight from the tensors and
// committed by the prefix's manifest, with checkpoint.index.json saying where each tensor lies.
// The latest committed step is where a retried or restarted run resumes, so only the newest
// KEPT_CHECKPOINTS are kept: GPT-2 large's checkpoint is 9.3 GB, and a run that kept every step
// filled the object store's disk at its third. Checkpoints written before sharding (one
// checkpoint.veil object) still load.
import { type Checkpoint, type ParamSpec } from '../../engine/train/index.ts';
import { DEFAULT_MAX_SHARD_BYTES, SHARD_INDEX_FILE, shardCheckpoint } from '../../engine/train/checkpoint-shards.ts';
import { DEFAULT_SHARD_CONCURRENCY, inParallel, parseShardIndex, readCheckpointStream, readShardedCheckpoint, readShardedCheckpointParams } from '../../engine/train/checkpoint-shards-read.ts';
import { DEFAULT_PART_SIZE, MIN_PART_SIZE, checkpointPrefix, checkpointsRoot, commitOnce, manifestKey, type ArtifactStore } from '../../infra/storage/index.ts';

/** The one object of a checkpoint written before sharding (its manifest aside). */
export const CHECKPOINT_FILE = 'checkpoint.veil';
/** Sets the shard size in bytes (tests force several shards with a few KiB). */
export const SHARD_BYTES_ENV = 'VEIL_CHECKPOINT_SHARD_BYTES';

export interface CheckpointMeta extends Record<string, unknown> {
  jobId: string;
  step: number;
  totalSteps: number;
  epsilon: number | 'unlimited';
  delta: number | null;
  noiseMultiplier: number;
}

export interface ShardingOptions {
  /** Tensor bytes per shard at most; default: $VEIL_CHECKPOINT_SHARD_BYTES, else 512 MiB. */
  maxShardBytes?: number;
  /** Shards uploaded or downloaded at once. */
  concurrency?: number;
}

/** The shard size to use: the option, else the environment's, else the default. */
export function checkpointShardBytes(options: ShardingOptions = {}, env: NodeJS.ProcessEnv = process.env): number {
  if (options.maxShardBytes !== undefined) return options.maxShardBytes;
  const text = env[SHARD_BYTES_ENV];
  if (text === undefined || text === '') return DEFAULT_MAX_SHARD_BYTES;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 4) throw new Error(`${SHARD_BYTES_ENV}=${text} is not a whole number of bytes ≥ 4`);
  return value;
}

/**
 * A shard's bytes as views of at most one upload part each: the upload cuts its parts from the
 * chunks it is given and copies what is left of a chunk past each cut, so a whole tensor as one
 * chunk (the 257 MB embedding of GPT-2 large) would be copied again and again, and held twice.
 */
export async function* shardStream(chunks: readonly Uint8Array[], viewBytes = DEFAULT_PART_SIZE): AsyncGenerator<Uint8Array> {
  for (const chunk of chunks) {
    for (let start = 0; start < chunk.byteLength; start += viewBytes) yield chunk.subarray(start, Math.min(start + viewBytes, chunk.byteLength));
  }
}

/** Uploads a checkpoint as shards, in parallel, without assembling it in memory. Re-uploading a committed step is a no-op. */
export async function uploadCheckpoint(store: ArtifactStore, jobId: string, ckpt: Checkpoint, options: ShardingOptions = {}): Promise<CheckpointMeta> {
  const prefix = checkpointPrefix(jobId, ckpt.step);
  const meta: CheckpointMeta = {
    jobId,
    step: ckpt.step,
    totalSteps: ckpt.plan.totalSteps,
    epsilon: Number.isFinite(ckpt.epsilon) ? ckpt.epsilon : 'unlimited',
    delta: ckpt.plan.delta,
    noiseMultiplier: ckpt.plan.noiseMultiplier,
  };
  const { index, shards } = shardCheckpoint(ckpt, checkpointShardBytes(options));
  // A resumed run redoes identical steps: a step committed before is kept as it is.
  await commitOnce(
    store,
    prefix,
    async (w) => {
      await inParallel(shards, options.concurrency ?? DEFAULT_SHARD_CONCURRENCY, async (shard) => {
        await w.put(shard.file, shardStream(shard.chunks));
      });
      await w.putJson(SHARD_INDEX_FILE, index);
      return meta;
    },
    // Only shards of a multipart size can leave unfinished uploads behind (MinIO lists them by key only).
    { largeObjects: shards.filter((s) => s.bytes >= MIN_PART_SIZE).map((s) => s.file) },
  );
  return meta;
}

/**
 * Committed checkpoints kept per run: the newest, where a retry resumes, and the one before it, for
 * an attempt that was already reading it when a newer one was committed (a timed-out attempt can
 * still be running somewhere and committing steps).
 */
export const KEPT_CHECKPOINTS = 2;

/** The steps that have a folder under the run's checkpoints, committed or not, newest first. */
async function checkpointSteps(store: ArtifactStore, jobId: string): Promise<number[]> {
  return (await store.listPrefixes(checkpointsRoot(jobId)))
    .map((s) => /^step-(\d+)$/.exec(s)?.[1])
    .filter((s): s is string => s !== undefined)
    .map(Number)
    .sort((a, b) => b - a);
}

/**
 * Deletes every checkpoint older than the newest `keep` committed ones, committed or left
 * unfinished by a dead attempt: the manifest first, so a step is never seen committed with
 * shards missing, then its objects and unfinished uploads. Returns the steps deleted.
 */
export async function pruneCheckpoints(store: ArtifactStore, jobId: string, keep = KEPT_CHECKPOINTS): Promise<number[]> {
  const steps = await checkpointSteps(store, jobId);
  const kept: number[] = [];
  for (const step of steps) {
    if (kept.length === keep) break;
    if (await store.tryReadManifest(checkpointPrefix(jobId, step))) kept.push(step);
  }
  if (kept.length < keep) return [];
  const older = steps.filter((step) => step < kept[kept.length - 1]);
  if (older.length === 0) return [];
  // MinIO lists unfinished uploads by exact key only: ask for each shard name a step can have.
  const newest = await store.readManifest(checkpointPrefix(jobId, kept[0]));
  const shardFiles = Object.keys(newest.entries).filter((file) => file !== SHARD_INDEX_FILE);
  for (const step of older) {
    const prefix = checkpointPrefix(jobId, step);
    await store.delete(manifestKey(prefix));
    for (const file of shardFiles) await store.abortIncompleteUploads(`${prefix}/${file}`);
    await store.deletePrefix(prefix);
  }
  return older;
}

/** The committed checkpoint with the highest step, if any. */
export async function latestCheckpoint(store: ArtifactStore, jobId: string): Promise<CheckpointMeta | undefined> {
  for (const step of await checkpointSteps(store, jobId)) {
    const manifest = await store.tryReadManifest(checkpointPrefix(jobId, step));
    if (manifest) return manifest.meta as CheckpointMeta;
  }
  return undefined;
}

/** Reads a committed checkpoint, streaming every shard (or the single file of an older one) through its manifest's checks. */
export async function downloadCheckpoint(store: ArtifactStore, jobId: string, step: number, options: Pick<ShardingOptions, 'concurrency'> = {}): Promise<Checkpoint> {
  const prefix = checkpointPrefix(jobId, step);
  const manifest = await store.readManifest(prefix);
  if (manifest.entries[SHARD_INDEX_FILE] === undefined) {
    return readCheckpointStream(await store.getEntry(manifest, CHECKPOINT_FILE), `${prefix}/${CHECKPOINT_FILE}`);
  }
  const index = parseShardIndex(JSON.parse((await store.getEntryBuffer(manifest, SHARD_INDEX_FILE)).toString('utf8')));
  return readShardedCheckpoint(index, (file) => store.getEntry(manifest, file), options);
}

/**
 * Only the weights of a committed checkpoint, without the optimizer's moments (two thirds of it):
 * what evaluating or registering the trained model needs. A single-object checkpoint is read whole.
 */
export async function downloadCheckpointParams(store: ArtifactStore, jobId: string, step: number, options: Pick<ShardingOptions, 'concurrency'> = {}): Promise<{ paramSpecs: ParamSpec[]; params: Float32Array[] }> {
  const prefix = checkpointPrefix(jobId, step);
  const manifest = await store.readManifest(prefix);
  if (manifest.entries[SHARD_INDEX_FILE] === undefined) return downloadCheckpoint(store, jobId, step, options);
  const index = parseShardIndex(JSON.parse((await store.getEntryBuffer(manifest, SHARD_INDEX_FILE)).toString('utf8')));
  return readShardedCheckpointParams(index, (file) => store.getEntry(manifest, file), options);
}

/** ε spent so far by a run, as recorded in its last committed checkpoint (0 before the first). */
export async function epsilonSpentSoFar(store: ArtifactStore, jobId: string): Promise<{ epsilon: number | 'unlimited'; step: number }> {
  const latest = await latestCheckpoint(store, jobId);
  return { epsilon: latest?.epsilon ?? 0, step: latest?.step ?? 0 };
}
