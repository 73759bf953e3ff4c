// An ingest survives S3 going away: MinIO is stopped while the rows are being written and started
// again; the activity's retries carry the workflow through and the stored dataset is whole.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { config } from '../../infra/config.ts';
import { startMinio, stopMinio } from '../../infra/servers/minio.ts';
import { ArtifactStore, type StoredObject, type UploadBody, type UploadOptions } from '../../infra/storage/index.ts';
import { datasetActivities, readDatasetRows, readDatasetVersion } from '../../activities/datasets/index.ts';
import { connectTestEnvironment, withWorker } from '../helpers/temporal.ts';
import { testStore } from '../helpers/storage.ts';
import { MiB } from '../helpers/memory.ts';
import { cleanupDatasets, clientFor, datasetName, localPath, writeNotes } from './harness.ts';

let env: TestWorkflowEnvironment;
before(async () => {
  env = await connectTestEnvironment();
});
after(async () => {
  await cleanupDatasets(await testStore());
  await env.teardown();
});

/**
 * A store whose first rows.jsonl upload stops after `pauseAfter` bytes until the test lets it go
 * on: the test can take S3 away at a known point in the middle of writing a dataset.
 */
class PausingStore extends ArtifactStore {
  readonly reached: Promise<void>;
  private reach!: () => void;
  private gate!: () => void;
  private readonly opened = new Promise<void>((resolve) => (this.gate = resolve));
  private armed = true;

  constructor(base: ArtifactStore, private readonly pauseAfter: number) {
    super(base.client, base.bucket);
    this.reached = new Promise((resolve) => (this.reach = resolve));
  }

  release(): void {
    this.gate();
  }

  override putImmutable(key: string, body: UploadBody, options?: UploadOptions): Promise<StoredObject> {
    if (!this.armed || !key.endsWith('/rows.jsonl') || typeof body === 'string' || body instanceof Uint8Array) return super.putImmutable(key, body, options);
    this.armed = false;
    return super.putImmutable(key, this.pausing(body), options);
  }

  private async *pausing(body: AsyncIterable<Uint8Array | string>): AsyncGenerator<Uint8Array | string> {
    let sent = 0;
    let paused = false;
    for await (const chunk of body) {
      sent += chunk.length;
      if (!paused && sent >= this.pauseAfter) {
        paused = true;
        this.reach();
        await this.opened;
      }
      yield chunk;
    }
  }
}

test('MinIO stopped in the middle of an ingest: the workflow completes once it is back, the dataset whole', { timeout: 120_000 }, async () => {
  const cfg = config();
  const base = await testStore();
  const rows = 120_000; // ~19 MB of normalized rows: a few 8 MiB parts
  const file = await writeNotes(localPath('notes.jsonl'), rows);
  const store = new PausingStore(base, 9 * MiB);
  await withWorker(
    async (ctx) => {
      const veil = await clientFor(ctx);
      const name = datasetName('outage');
      let workflowId = '';
      const ingest = veil.addDataset(name, file, { onStarted: (id) => (workflowId = id) });
      await store.reached; // a part of rows.jsonl is uploaded, the rest is on its way
      try {
        assert.equal(await stopMinio(cfg), true, 'MinIO was running and is stopped');
        store.release(); // the upload goes on against a dead server and fails
        await sleep(3_000);
      } finally {
        // Whatever happened above, the server other tests rely on comes back.
        assert.equal(await startMinio(cfg), 'started');
      }
      const r = await ingest;

      assert.equal(r.rows, rows);
      const manifest = await readDatasetVersion(base, name);
      assert.equal(manifest.meta.rows, rows);
      await base.verifyManifest(manifest);
      let n = 0;
      for await (const row of readDatasetRows(base, manifest)) assert.equal(row.id, n++);
      assert.equal(n, rows);

      // The parts the first attempt uploaded before the outage were cleaned up by the retry.
      let unfinished = 0;
      for await (const _u of base.client.listIncompleteUploads(base.bucket, `datasets/${name}/v${r.version}/rows.jsonl`, true)) unfinished++;
      assert.equal(unfinished, 0, 'no unfinished multipart upload is left');

      // The outage really hit the activity: it needed more than one attempt.
      const history = await ctx.client.workflow.getHandle(workflowId).fetchHistory();
      const attempts = (history.events ?? []).map((e) => e.activityTaskStartedEventAttributes?.attempt ?? 0);
      assert.ok(Math.max(...attempts) >= 2, `attempts: ${attempts.filter(Boolean).join(',')}`);
    },
    { env, gpu: false, activities: datasetActivities(() => Promise.resolve(store)) },
  );
});
