// Releases happen once per job. A noisy number (the data report's counts, the held-out loss) is
// drawn once and kept create-only in S3; every retry, rerun or reset of the job gets the same
// number back, so nobody can average fresh noise away by running a job again. The job's final
// result is kept the same way.
import type { FineTuneResult } from '../../contracts/fine-tune.ts';
import { ObjectExistsError, runReleaseKey, runResultKey, type ArtifactStore } from '../../infra/storage/index.ts';
import { sharedStore } from '../shared/resources.ts';

const readJson = async <T>(store: ArtifactStore, key: string): Promise<T | undefined> => (await store.tryGetRawJson(key)) as T | undefined;

/** Keeps `value` at `key` unless something is there already; returns whatever is kept. */
async function keepOnce<T>(store: ArtifactStore, key: string, value: T): Promise<T> {
  try {
    await store.putJsonImmutable(key, value);
    return value;
  } catch (err) {
    if (!(err instanceof ObjectExistsError)) throw err;
    return (await readJson<T>(store, key)) as T;
  }
}

/** The job's release `name`: the kept one, or `draw()`'s, kept for good. */
export async function releaseOnce<T>(jobId: string, name: string, draw: () => Promise<T>): Promise<T> {
  const store = await sharedStore();
  const key = runReleaseKey(jobId, name);
  const kept = await readJson<T>(store, key);
  if (kept !== undefined) return kept;
  return keepOnce(store, key, await draw());
}

/** Keeps a finished job's result (the first one kept wins) and returns it. */
export async function recordJobResult(result: FineTuneResult): Promise<FineTuneResult> {
  return keepOnce(await sharedStore(), runResultKey(result.jobId), result);
}

export async function readJobResult(input: { jobId: string }): Promise<FineTuneResult | null> {
  return (await readJson<FineTuneResult>(await sharedStore(), runResultKey(input.jobId))) ?? null;
}
