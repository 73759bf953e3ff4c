// Checkpoints without copies of the model: a live checkpoint is the run's own buffers (in a worker
// thread, moved to the caller for the upload and back), a resumed checkpoint is adopted as the
// run's state, and both give exactly the bytes of the copying path, step after step.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { RunKey } from '../../engine/dp/index.ts';
import { decodeCheckpoint, encodeCheckpoint, runTrainingInWorker, train, type Checkpoint, type TrainConfig, type TrainResult } from '../../engine/train/index.ts';
import { SoftmaxRegression, type SoftmaxRegressionOptions } from './softmax-regression.ts';

const MODEL_MODULE = fileURLToPath(new URL('./softmax-regression.ts', import.meta.url));
const runKey = new RunKey(new Uint8Array(32).fill(41));
const modelOptions: SoftmaxRegressionOptions = { rowCount: 240, features: 5, classes: 3 };
const config: TrainConfig = {
  rowCount: 240, targetEpsilon: 4, batchSize: 24, epochs: 0.6, maxGradNorm: 0.8, lr: 0.05, warmupSteps: 1,
  physicalBatchSize: 8, accountant: 'rdp', checkpointEvery: 2,
};

function bytes(arrays: readonly Float32Array[]): Buffer {
  return Buffer.concat(arrays.map((a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength)));
}

async function inProcess(options: { live?: boolean; stopAfter?: number; resumeFrom?: Checkpoint; adopt?: boolean } = {}): Promise<{ result: TrainResult; files: Buffer[]; seen: Checkpoint[] }> {
  const model = new SoftmaxRegression(modelOptions);
  const files: Buffer[] = [];
  const seen: Checkpoint[] = [];
  let steps = 0;
  const result = await train(
    {
      config, model, runKey, resumeFrom: options.resumeFrom, initialParams: options.resumeFrom ? undefined : model.initialParams(),
      liveCheckpoints: options.live, adoptResumeState: options.adopt,
      shouldStop: () => options.stopAfter !== undefined && steps >= options.stopAfter,
    },
    {
      onProgress: () => { steps++; },
      // What an upload does: read every byte before settling.
      onCheckpoint: (c) => { files.push(Buffer.from(encodeCheckpoint(c))); seen.push(c); },
    },
  );
  return { result, files, seen };
}

void test('a live checkpoint is the run\'s own buffers, with the bytes of a snapshot at every checkpoint', async () => {
  const copied = await inProcess();
  const live = await inProcess({ live: true });
  assert.equal(live.files.length, copied.files.length);
  assert.ok(live.files.length >= 3);
  live.files.forEach((file, k) => assert.ok(file.equals(copied.files[k]), `checkpoint ${k} differs`));
  assert.ok(bytes(live.result.params).equals(bytes(copied.result.params)));
  // No copy: every checkpoint handed out the run's parameter array itself (updated since), the copying path new arrays.
  assert.ok(live.seen.every((c) => c.params === live.result.params));
  assert.ok(copied.seen.every((c) => c.params !== copied.result.params && c.params[0] !== copied.result.params[0]));
});

void test('a resumed checkpoint adopted as the run\'s state ends bit-identical, and is what the run updated', async () => {
  const straight = await inProcess();
  const first = await inProcess({ stopAfter: 3 });
  const resumeFrom = decodeCheckpoint(new Uint8Array(first.files.at(-1)!)); // views of a copy: adopting updates them
  const kept = bytes(resumeFrom.params);
  const resumed = await inProcess({ resumeFrom, adopt: true });
  assert.ok(bytes(resumed.result.params).equals(bytes(straight.result.params)));
  assert.ok(resumed.result.params.every((p, k) => p === resumeFrom.params[k]), 'the checkpoint\'s tensors are the run\'s');
  assert.ok(!bytes(resumeFrom.params).equals(kept), 'adopted tensors were updated in place');
  // Not adopting leaves the checkpoint as it was (the default: it may be resumed from again).
  const again = decodeCheckpoint(first.files.at(-1)!);
  const copiedResume = await inProcess({ resumeFrom: again });
  assert.ok(bytes(copiedResume.result.params).equals(bytes(straight.result.params)));
  assert.ok(bytes(again.params).equals(kept));
});

void test('in a worker thread, live checkpoints move the run\'s buffers to the caller and back: same bytes, nothing kept', async () => {
  const reference = await inProcess();
  const files: Buffer[] = [];
  const held: Checkpoint[] = [];
  const fromWorker = await runTrainingInWorker(
    { model: { module: MODEL_MODULE, options: modelOptions }, config, runKey, liveCheckpoints: true },
    { onCheckpoint: async (c) => { await new Promise((resolve) => setTimeout(resolve, 5)); files.push(Buffer.from(encodeCheckpoint(c))); held.push(c); } },
  ).done;
  assert.deepEqual(files.map((f) => decodeCheckpoint(f).step), reference.files.map((f) => decodeCheckpoint(f).step));
  files.forEach((file, k) => assert.ok(file.equals(reference.files[k]), `checkpoint ${k} differs`));
  assert.ok(bytes(fromWorker.params).equals(bytes(reference.result.params)));
  // Moved back after each callback: the caller's views are detached, so no copy stayed here.
  assert.ok(held.every((c) => c.params.every((p) => p.length === 0) && c.optimizerState.slots.exp_avg.every((m) => m.length === 0)));
});

void test('a live worker run resumes from a checkpoint moved into it, bit-identical to one that never stopped', async () => {
  const reference = await inProcess();
  let stopped: Buffer | undefined;
  const handle = runTrainingInWorker(
    { model: { module: MODEL_MODULE, options: { ...modelOptions, busyMsPerMicroBatch: 30 } }, config, runKey, liveCheckpoints: true },
    {
      onProgress: (e) => { if (e.step === 1) handle.cancel(); },
      onCheckpoint: (c) => { stopped = Buffer.from(encodeCheckpoint(c)); },
    },
  );
  assert.equal((await handle.done).status, 'cancelled');
  const resumeFrom = decodeCheckpoint(new Uint8Array(stopped!)); // its own buffer (a small Buffer may sit in Node's pool, which is never moved)
  const run = runTrainingInWorker({ model: { module: MODEL_MODULE, options: modelOptions }, config, runKey, resumeFrom, liveCheckpoints: true });
  assert.ok(resumeFrom.params.every((p) => p.length === 0), 'the checkpoint was moved into the worker, not copied');
  const resumed = await run.done;
  assert.equal(resumed.status, 'completed');
  assert.ok(bytes(resumed.params).equals(bytes(reference.result.params)));
});
