// Training checkpoints in S3: runs/<jobId>/checkpoints/step-<n>/ holds the checkpoint (weights,
// optimizer, sampler and noise counters, accountant state) streamed chunk by chunk, committed by
// its manifest. The latest committed step is where a retried or restarted run resumes.
import { checkpointChunks, decodeCheckpoint, type Checkpoint } from '../../engine/train/index.ts';
import { checkpointPrefix, checkpointsRoot, commitOnce, type ArtifactStore } from '../../infra/storage/index.ts';

/** The one object of a checkpoint prefix (its manifest aside). */
export const CHECKPOINT_FILE = 'checkpoint.veil';

export interface CheckpointMeta extends Record<string, unknown> {
  jobId: string;
  step: number;
  totalSteps: number;
  epsilon: number | 'unlimited';
  delta: number | null;
  noiseMultiplier: number;
}

/** Uploads a checkpoint without assembling it in memory a second time. Re-uploading a committed step is a no-op. */
export async function uploadCheckpoint(store: ArtifactStore, jobId: string, ckpt: Checkpoint): Promise<CheckpointMeta> {
  const prefix = checkpointPrefix(jobId, ckpt.step);
  const meta: CheckpointMeta = {
    jobId,
    step: ckpt.step,
    totalSteps: ckpt.plan.totalSteps,
    epsilon: Number.isFinite(ckpt.epsilon) ? ckpt.epsilon : 'unlimited',
    delta: ckpt.plan.delta,
    noiseMultiplier: ckpt.plan.noiseMultiplier,
  };
  async function* chunks() {
    for (const chunk of checkpointChunks(ckpt)) yield chunk;
  }
  // A resumed run redoes identical steps: a step committed before is kept as it is.
  await commitOnce(
    store,
    prefix,
    async (w) => {
      await w.put(CHECKPOINT_FILE, chunks());
      return meta;
    },
    { largeObjects: [CHECKPOINT_FILE] },
  );
  return meta;
}

/** The committed checkpoint with the highest step, if any. */
export async function latestCheckpoint(store: ArtifactStore, jobId: string): Promise<CheckpointMeta | undefined> {
  const steps = (await store.listPrefixes(checkpointsRoot(jobId)))
    .map((s) => /^step-(\d+)$/.exec(s)?.[1])
    .filter((s): s is string => s !== undefined)
    .map(Number)
    .sort((a, b) => b - a);
  for (const step of steps) {
    const manifest = await store.tryReadManifest(checkpointPrefix(jobId, step));
    if (manifest) return manifest.meta as CheckpointMeta;
  }
  return undefined;
}

export async function downloadCheckpoint(store: ArtifactStore, jobId: string, step: number): Promise<Checkpoint> {
  const prefix = checkpointPrefix(jobId, step);
  const manifest = await store.readManifest(prefix);
  return decodeCheckpoint(await store.getEntryBuffer(manifest, CHECKPOINT_FILE));
}

/** ε spent so far by a run, as recorded in its last committed checkpoint (0 before the first). */
export async function epsilonSpentSoFar(store: ArtifactStore, jobId: string): Promise<{ epsilon: number | 'unlimited'; step: number }> {
  const latest = await latestCheckpoint(store, jobId);
  return { epsilon: latest?.epsilon ?? 0, step: latest?.step ?? 0 };
}
