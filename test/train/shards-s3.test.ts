// Sharded checkpoints through the real S3 server: a tiny shard limit writes several shard objects
// under one manifest, the checkpoint reads back streaming, and a run resumed from it ends
// bit-identical to one that never stopped. A checkpoint in the older single-object layout still
// loads. Needs the servers of `veil infra up`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RunKey } from '../../engine/dp/index.ts';
import { encodeCheckpoint, train, type Checkpoint, type TrainConfig } from '../../engine/train/index.ts';
import { SHARD_INDEX_FILE, shardFileName } from '../../engine/train/checkpoint-shards.ts';
import { CHECKPOINT_FILE, SHARD_BYTES_ENV, checkpointShardBytes, downloadCheckpoint, downloadCheckpointParams, latestCheckpoint, uploadCheckpoint } from '../../activities/training/checkpoints.ts';
import { checkpointPrefix, commitOnce } from '../../infra/storage/index.ts';
import { storeForRuns } from '../helpers/storage.ts';
import { SoftmaxRegression } from './softmax-regression.ts';

const runKey = new RunKey(new Uint8Array(32).fill(7));
// 40 features × 30 classes: 1,230 parameters, 14.8 KB with Adam's two moments.
const modelOptions = { rowCount: 240, features: 40, classes: 30 };
const config: TrainConfig = {
  rowCount: 240, targetEpsilon: 4, batchSize: 24, epochs: 1, maxGradNorm: 1, lr: 0.05, physicalBatchSize: 12,
  accountant: 'rdp', checkpointEvery: 4, optimizer: { kind: 'adamw', weightDecay: 0.05 },
};
const SHARD_BYTES = 2048;

const runs = storeForRuns();

async function run(options: { stopAfter?: number; resumeFrom?: Checkpoint } = {}): Promise<{ params: Buffer; last: Checkpoint }> {
  const model = new SoftmaxRegression(modelOptions);
  let steps = 0;
  let last: Checkpoint | undefined;
  const result = await train(
    {
      config, model, runKey, resumeFrom: options.resumeFrom,
      initialParams: options.resumeFrom ? undefined : model.initialParams(),
      shouldStop: () => options.stopAfter !== undefined && steps >= options.stopAfter,
    },
    { onProgress: () => { steps++; }, onCheckpoint: (c) => { last = c; } },
  );
  return { params: Buffer.concat(result.params.map((p) => Buffer.from(p.buffer, p.byteOffset, p.byteLength))), last: last! };
}

void test('a tiny shard limit: several shards under one manifest, read back and resumed bit-identical', async () => {
  const jobId = runs.newJob('shards');
  const straight = await run();
  const first = await run({ stopAfter: 5 });
  assert.equal(first.last.step, 5);

  await uploadCheckpoint(runs.store, jobId, first.last, { maxShardBytes: SHARD_BYTES, concurrency: 3 });
  const manifest = await runs.store.readManifest(checkpointPrefix(jobId, 5));
  const shardFiles = Object.keys(manifest.entries).filter((p) => p !== SHARD_INDEX_FILE).sort();
  const expected = Math.ceil((1230 * 3 * 4) / SHARD_BYTES);
  assert.deepEqual(shardFiles, Array.from({ length: expected }, (_, k) => shardFileName(k)));
  assert.ok(manifest.entries[SHARD_INDEX_FILE], 'the index is committed with the shards');
  for (const file of shardFiles) assert.ok(manifest.entries[file].size < SHARD_BYTES + 1024, `${file}: ${manifest.entries[file].size} bytes`);
  assert.equal((await latestCheckpoint(runs.store, jobId))?.step, 5);
  // Uploading the same step again keeps the committed one.
  await uploadCheckpoint(runs.store, jobId, first.last, { maxShardBytes: 4 * SHARD_BYTES });
  assert.deepEqual((await runs.store.readManifest(checkpointPrefix(jobId, 5))).entries, manifest.entries);

  const read = await downloadCheckpoint(runs.store, jobId, 5, { concurrency: 2 });
  assert.deepEqual(read, first.last);
  const weights = await downloadCheckpointParams(runs.store, jobId, 5, { concurrency: 2 });
  assert.deepEqual(weights.params, first.last.params, 'the weights alone, read from the shards that hold them');
  const resumed = await run({ resumeFrom: read });
  assert.ok(resumed.params.equals(straight.params), 'parameters differ from the uninterrupted run');
  assert.deepEqual(resumed.last, straight.last);
  assert.notDeepEqual(first.last.params, straight.last.params, 'the run must have moved after step 5');
});

void test('a checkpoint committed as one checkpoint.veil object (before sharding) still loads', async () => {
  const jobId = runs.newJob('shards-legacy');
  const { last } = await run({ stopAfter: 3 });
  await commitOnce(runs.store, checkpointPrefix(jobId, 3), async (w) => {
    await w.put(CHECKPOINT_FILE, encodeCheckpoint(last));
    return { jobId, step: 3, totalSteps: last.plan.totalSteps, epsilon: last.epsilon, delta: last.plan.delta, noiseMultiplier: last.plan.noiseMultiplier };
  });
  assert.deepEqual(await downloadCheckpoint(runs.store, jobId, 3), last);
  assert.deepEqual((await downloadCheckpointParams(runs.store, jobId, 3)).params, last.params);
});

void test('the shard size comes from the option, else the environment, and a bad value is refused', () => {
  assert.equal(checkpointShardBytes({ maxShardBytes: 100 }, { [SHARD_BYTES_ENV]: '4096' }), 100);
  assert.equal(checkpointShardBytes({}, { [SHARD_BYTES_ENV]: '4096' }), 4096);
  assert.equal(checkpointShardBytes({}, {}), 512 * 1024 * 1024);
  assert.throws(() => checkpointShardBytes({}, { [SHARD_BYTES_ENV]: '1.5' }));
  assert.throws(() => checkpointShardBytes({}, { [SHARD_BYTES_ENV]: '2' }));
});
