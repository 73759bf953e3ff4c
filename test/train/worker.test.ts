// Training in a worker thread: the caller's event loop keeps ticking through CPU-bound steps,
// progress and checkpoints arrive, cancel checkpoints and stops, and the result is the same
// bit for bit as training in-process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { RunKey } from '../../engine/dp/index.ts';
import { runTrainingInWorker, train, type Checkpoint, type ProgressEvent, type TrainConfig, type TrainResult } from '../../engine/train/index.ts';
import { SoftmaxRegression, type SoftmaxRegressionOptions } from './softmax-regression.ts';

const MODEL_MODULE = fileURLToPath(new URL('./softmax-regression.ts', import.meta.url));
const runKey = new RunKey(new Uint8Array(32).fill(77));
const BUSY_MS = 400;
const modelOptions: SoftmaxRegressionOptions = { rowCount: 200, features: 4, classes: 3 };
const busyModelOptions: SoftmaxRegressionOptions = { ...modelOptions, busyMsPerMicroBatch: BUSY_MS };
// Steps just slow enough that a cancel lands before the run ends on its own.
const slowModelOptions: SoftmaxRegressionOptions = { ...modelOptions, busyMsPerMicroBatch: 100 };
// 4 steps of ~1 micro-batch each, every one blocking its thread for BUSY_MS.
const config: TrainConfig = { rowCount: 200, targetEpsilon: 5, batchSize: 10, epochs: 0.2, maxGradNorm: 1, lr: 0.05, physicalBatchSize: 64, accountant: 'rdp' };

/** Largest gap between ticks of a 20 ms interval while `work` runs. */
async function largestTickGap<T>(work: () => Promise<T>): Promise<{ value: T; gapMs: number }> {
  let last = performance.now();
  let gapMs = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    gapMs = Math.max(gapMs, now - last);
    last = now;
  }, 20);
  try {
    const value = await work();
    gapMs = Math.max(gapMs, performance.now() - last);
    return { value, gapMs };
  } finally {
    clearInterval(timer);
  }
}

function paramBytes(result: TrainResult): Buffer {
  return Buffer.concat(result.params.map((p) => Buffer.from(p.buffer, p.byteOffset, p.byteLength)));
}

async function inProcess(options = modelOptions): Promise<TrainResult> {
  const model = new SoftmaxRegression(options);
  return train({ config, model, initialParams: model.initialParams(), runKey });
}

void test('the caller keeps ticking while the worker runs CPU-bound steps; same result as in-process', async () => {
  const events: ProgressEvent[] = [];
  const checkpoints: Checkpoint[] = [];
  const { value: fromWorker, gapMs: workerGap } = await largestTickGap(() => runTrainingInWorker(
    { model: { module: MODEL_MODULE, options: busyModelOptions }, config: { ...config, checkpointEvery: 2 }, runKey },
    { onProgress: (e) => events.push(e), onCheckpoint: (c) => { checkpoints.push(c); } },
  ).done);
  assert.equal(fromWorker.status, 'completed');
  assert.deepEqual(events.map((e) => e.step), [1, 2, 3, 4]);
  assert.ok(events.every((e) => e.epsilon > 0 && e.epsilon <= 5));
  assert.deepEqual(checkpoints.map((c) => c.step), [2, 4]);
  assert.ok(checkpoints[0].params[0] instanceof Float32Array && checkpoints[0].optimizerState.slots.exp_avg[0] instanceof Float32Array);
  // Ticks every 20 ms; the bound leaves room for a loaded 2-core machine, yet is half a step.
  assert.ok(workerGap < BUSY_MS / 2, `caller's event loop stalled ${workerGap.toFixed(0)} ms`);

  // The control: the same run on the caller's thread stalls it for a whole step.
  const { value: local, gapMs: localGap } = await largestTickGap(() => inProcess(busyModelOptions));
  assert.ok(localGap >= BUSY_MS * 0.9, `in-process gap only ${localGap.toFixed(0)} ms`);
  assert.ok(paramBytes(fromWorker).equals(paramBytes(local)), 'worker and in-process results differ');
  assert.equal(fromWorker.epsilon, local.epsilon);
});

void test('cancel finishes the step, checkpoints and stops; resuming in a worker completes the same run', async () => {
  let stopCheckpoint: Checkpoint | undefined;
  const handle = runTrainingInWorker(
    { model: { module: MODEL_MODULE, options: slowModelOptions }, config, runKey },
    {
      onProgress: (e) => { if (e.step === 1) handle.cancel(); },
      onCheckpoint: async (c) => {
        await new Promise((resolve) => setTimeout(resolve, 20)); // an upload
        stopCheckpoint = c;
      },
    },
  );
  const cancelled = await handle.done;
  assert.equal(cancelled.status, 'cancelled');
  assert.ok(stopCheckpoint && stopCheckpoint.step === cancelled.step && cancelled.step >= 1 && cancelled.step < 4);

  const resumed = await runTrainingInWorker({ model: { module: MODEL_MODULE, options: modelOptions }, config, runKey, resumeFrom: stopCheckpoint }).done;
  assert.equal(resumed.status, 'completed');
  assert.ok(paramBytes(resumed).equals(paramBytes(await inProcess())));
});

void test('errors in the worker reject done with their name and exit code', async () => {
  const bad = runTrainingInWorker({ model: { module: MODEL_MODULE, options: modelOptions }, config: { ...config, batchSize: 0 }, runKey });
  await assert.rejects(bad.done, (error: Error & { exitCode?: number }) => error.name === 'TrainConfigError' && error.exitCode === 2);
  const missing = runTrainingInWorker({ model: { module: MODEL_MODULE, exportName: 'nope', options: modelOptions }, config, runKey });
  await assert.rejects(missing.done, /does not export a model factory nope/);
});
