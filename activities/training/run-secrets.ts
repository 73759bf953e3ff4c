// The run key: 32 bytes from the CSPRNG that key a run's noise and sampling streams. It is kept
// with the run's secrets (a separate S3 prefix, which a production deployment would put behind a
// KMS or a stricter bucket policy), never in logs, heartbeats or workflow payloads. Stored once,
// create-only, so every attempt of the run (and a resume after a crash) uses the same key and
// therefore adds exactly the noise an uninterrupted run would have.
import { RunKey } from '../../engine/dp/index.ts';
import { ObjectExistsError, runKeyKey, type ArtifactStore } from '../../infra/storage/index.ts';


export async function runKeyFor(store: ArtifactStore, jobId: string): Promise<RunKey> {
  const key = runKeyKey(jobId);
  if (await store.exists(key)) return new RunKey(new Uint8Array(await store.getRawBuffer(key)));
  const fresh = RunKey.generate();
  try {
    await store.putImmutable(key, fresh.exposeBytes());
    return fresh;
  } catch (err) {
    if (!(err instanceof ObjectExistsError)) throw err;
    return new RunKey(new Uint8Array(await store.getRawBuffer(key))); // another attempt won the race
  }
}
