// Version slots, without Temporal: a retried ingest finds its own work (a committed version is
// returned as is, an unfinished slot is finished), and a failed ingest leaves nothing.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { ArtifactStore, IntegrityError, datasetVersionPrefix, uploadKey, type StoredObject } from '../../infra/storage/index.ts';
import { ingestDataset, readDatasetRows, readDatasetVersion } from '../../activities/datasets/index.ts';
import type { IngestDatasetInput } from '../../contracts/datasets.ts';
import { claimVersion, committedVersions } from '../../activities/datasets/versions.ts';
import { testStore } from '../helpers/storage.ts';
import { cleanupDatasets, datasetName } from './harness.ts';

const store: ArtifactStore = await testStore();
const staged: string[] = [];

after(async () => {
  for (const key of staged) await store.delete(key);
  await cleanupDatasets(store);
});

async function stage(name: string, text: string, format: 'csv' | 'jsonl' = 'jsonl'): Promise<IngestDatasetInput> {
  const upload = await store.putImmutable(uploadKey(randomUUID()), text);
  staged.push(upload.key);
  return { name, format, upload };
}

describe('version slots', () => {
  test('a retry of an ingest that already committed returns that version instead of adding one', async () => {
    const name = datasetName('idem');
    const input = await stage(name, '{"a":1}\n{"a":2}\n');
    const first = await ingestDataset(store, input, { ingestId: 'wf-1' });
    const again = await ingestDataset(store, input, { ingestId: 'wf-1', resume: true });
    assert.deepEqual(again, first);
    assert.deepEqual(await committedVersions(store, name), [1]);
    // Another ingest of the same file is another version.
    assert.equal((await ingestDataset(store, input, { ingestId: 'wf-2' })).version, 2);
  });

  test('a retry finishes the slot its crashed attempt claimed and half wrote', async () => {
    const name = datasetName('resume');
    const input = await stage(name, '{"a":1}\n{"a":2}\n{"a":3}\n');
    // What a crash between writing the rows and the manifest leaves behind.
    const slot = await claimVersion(store, name, 'wf-crash');
    await store.putImmutable(`${datasetVersionPrefix(name, slot.version)}/rows.jsonl`, '{"a":1}\n');
    const r = await ingestDataset(store, input, { ingestId: 'wf-crash', resume: true });
    assert.equal(r.version, slot.version);
    const manifest = await readDatasetVersion(store, name);
    await store.verifyManifest(manifest);
    const rows: unknown[] = [];
    for await (const row of readDatasetRows(store, manifest)) rows.push(row);
    assert.deepEqual(rows, [{ a: 1 }, { a: 2 }, { a: 3 }]);
  });

  test('an unfinished slot of another ingest is skipped, not reused', async () => {
    const name = datasetName('skip');
    await claimVersion(store, name, 'wf-other'); // in progress elsewhere
    const r = await ingestDataset(store, await stage(name, '{"a":1}\n'), { ingestId: 'wf-mine' });
    assert.equal(r.version, 2);
    assert.deepEqual(await committedVersions(store, name), [2]);
  });

  test('an ingest that fails for good while writing leaves nothing, not even its claim', async () => {
    const name = datasetName('reject');
    const input = await stage(name, 'a\n1\n2\n', 'csv');
    // The rows are written, then the schema write fails in a way no retry can fix.
    class FailingStore extends ArtifactStore {
      override putJsonImmutable(key: string, value: unknown): Promise<StoredObject> {
        if (key.endsWith('/schema.json')) return Promise.reject(new IntegrityError(key, 'simulated'));
        return super.putJsonImmutable(key, value);
      }
    }
    const failing = new FailingStore(store.client, store.bucket);
    await assert.rejects(ingestDataset(failing, input, { ingestId: 'wf-bad' }), IntegrityError);
    assert.deepEqual(await store.listObjects(`datasets/${name}`), []);
  });

  test('a staged upload that does not match its digest is refused before anything is written', async () => {
    const name = datasetName('digest');
    const input = await stage(name, 'a\n1\n2\n', 'csv');
    const damaged = { ...input, upload: { ...input.upload, sha256: '0'.repeat(64) } };
    await assert.rejects(ingestDataset(store, damaged, { ingestId: 'wf-digest' }), /integrity check failed/);
    assert.deepEqual(await store.listObjects(`datasets/${name}`), []);
  });
});
