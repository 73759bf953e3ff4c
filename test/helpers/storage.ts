// The artifact store for tests, on the configured (already running) S3 server.
import { ArtifactStore, type StoreOptions } from '../../infra/storage/index.ts';

/** A store on the configured endpoint and bucket; `partSize` lets tests exercise multipart with small objects. */
export function testStore(options: StoreOptions = {}): Promise<ArtifactStore> {
  return ArtifactStore.fromConfig(undefined, options);
}
