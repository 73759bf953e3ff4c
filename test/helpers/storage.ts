// The artifact store for tests, on the configured (already running) S3 server.
import { after, before } from 'node:test';
import { ArtifactStore, runPrefix, type StoreOptions } from '../../infra/storage/index.ts';
import { uniqueName } from './names.ts';

/** A store on the configured endpoint and bucket; `partSize` lets tests exercise multipart with small objects. */
export function testStore(options: StoreOptions = {}): Promise<ArtifactStore> {
  return ArtifactStore.fromConfig(undefined, options);
}

/**
 * For a test file whose tests write training runs to the store: the store (opened before the
 * tests) and fresh job ids, each job's run deleted after the tests.
 */
export function storeForRuns(): { readonly store: ArtifactStore; newJob(stem: string): string } {
  let opened: ArtifactStore | undefined;
  const jobs: string[] = [];
  before(async () => {
    opened = await testStore();
  });
  after(async () => {
    for (const job of jobs) await opened?.deletePrefix(runPrefix(job));
  });
  return {
    get store() {
      if (!opened) throw new Error('storeForRuns: the store opens in before()');
      return opened;
    },
    newJob(stem) {
      const jobId = uniqueName(stem);
      jobs.push(jobId);
      return jobId;
    },
  };
}
