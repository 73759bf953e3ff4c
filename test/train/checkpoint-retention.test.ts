// Checkpoint retention through the real S3 server: after each commit the train activity prunes the
// run's checkpoints to the newest KEPT_CHECKPOINTS committed ones (a GPT-2 large checkpoint is 9.3 GB;
// keeping every step filled the object store's disk at the third), deleting older committed steps
// and an older step a dead attempt left unfinished, and the run still resumes from the newest.
// Needs the servers of `veil infra up`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RunKey } from '../../engine/dp/index.ts';
import { train, type Checkpoint, type TrainConfig } from '../../engine/train/index.ts';
import { KEPT_CHECKPOINTS, downloadCheckpoint, latestCheckpoint, pruneCheckpoints, uploadCheckpoint } from '../../activities/training/checkpoints.ts';
import { checkpointPrefix, checkpointsRoot } from '../../infra/storage/index.ts';
import { storeForRuns } from '../helpers/storage.ts';
import { SoftmaxRegression } from './softmax-regression.ts';

const modelOptions = { rowCount: 120, features: 12, classes: 5 };
const config: TrainConfig = {
  rowCount: 120, targetEpsilon: 4, batchSize: 20, epochs: 1, maxGradNorm: 1, lr: 0.05, physicalBatchSize: 10,
  accountant: 'rdp', checkpointEvery: 1, optimizer: { kind: 'adamw', weightDecay: 0.05 },
};

const runs = storeForRuns();

/** Every checkpoint of a short run, one per step. */
async function everyCheckpoint(): Promise<Checkpoint[]> {
  const model = new SoftmaxRegression(modelOptions);
  const out: Checkpoint[] = [];
  await train({ config, model, runKey: new RunKey(new Uint8Array(32).fill(3)), initialParams: model.initialParams() }, { onCheckpoint: (c) => { out.push(c); } });
  return out;
}

const folders = async (jobId: string) => (await runs.store.listPrefixes(checkpointsRoot(jobId))).sort();

void test('each commit leaves the newest two committed checkpoints and nothing older, and the newest still resumes', async () => {
  assert.equal(KEPT_CHECKPOINTS, 2);
  const jobId = runs.newJob('retention');
  const checkpoints = await everyCheckpoint();
  assert.ok(checkpoints.length >= 5, `${checkpoints.length} steps`);

  await uploadCheckpoint(runs.store, jobId, checkpoints[0]);
  assert.deepEqual(await pruneCheckpoints(runs.store, jobId), [], 'one committed checkpoint: nothing to delete');
  // A dead attempt's unfinished upload of step 2 (objects, no manifest).
  await runs.store.putImmutable(`${checkpointPrefix(jobId, 2)}/shard-00001.safetensors`, Buffer.from('half a shard'));
  for (const ckpt of checkpoints.slice(1)) {
    if (ckpt.step !== 2) await uploadCheckpoint(runs.store, jobId, ckpt);
    await pruneCheckpoints(runs.store, jobId);
  }
  const last = checkpoints.at(-1)!.step;
  const before = checkpoints.at(-2)!.step;
  assert.deepEqual(await folders(jobId), [`step-${before}`, `step-${last}`].sort(), 'only the newest two steps have objects');
  assert.equal((await runs.store.listObjects(checkpointPrefix(jobId, 2))).length, 0, "the dead attempt's leftovers went too");
  assert.equal((await latestCheckpoint(runs.store, jobId))?.step, last);
  const resumed = await downloadCheckpoint(runs.store, jobId, last);
  assert.deepEqual(resumed.params.map((p) => [...p]), checkpoints.at(-1)!.params.map((p) => [...p]), 'the newest reads back as written');
});

void test('an older step committed late (an abandoned attempt still running) is deleted at the next prune, the newest two stay', async () => {
  const jobId = runs.newJob('retention-late');
  const checkpoints = await everyCheckpoint();
  for (const ckpt of checkpoints.slice(2, 4)) await uploadCheckpoint(runs.store, jobId, ckpt);
  await uploadCheckpoint(runs.store, jobId, checkpoints[0]);
  assert.deepEqual(await pruneCheckpoints(runs.store, jobId), [checkpoints[0].step]);
  assert.deepEqual(await folders(jobId), [checkpoints[2].step, checkpoints[3].step].map((s) => `step-${s}`).sort());
});
