// The held-out evaluation runs its scoring in a worker thread: while a GPT-2 large enough that one
// onnxruntime call blocks for about a second is scored, the activity's event loop stays free (its
// largest delay, measured with perf_hooks' monitorEventLoopDelay, stays under a bound that the same
// scoring on the event loop exceeds), heartbeats keep coming, the loss is the one the scorer gives
// on this thread, and a cancellation stops it. Needs the servers of `veil infra up`.
import assert from 'node:assert/strict';
import { createReadStream } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { after, before, test } from 'node:test';
import { CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { evaluateModel, type Evaluation, type EvaluateInput } from '../../activities/training/evaluate.ts';
import { uploadCheckpoint } from '../../activities/training/checkpoints.ts';
import { encodeTokenizedRows } from '../../activities/training/tokenized-rows.ts';
import { COMPUTE_HEARTBEAT_EVERY_MS } from '../../activities/shared/compute-worker.ts';
import { rowLosses, SequenceScorer } from '../../engine/audit/index.ts';
import { RunKey } from '../../engine/dp/index.ts';
import { presetConfig, randomWeights, saveCheckpoint, type Gpt2Config } from '../../engine/gpt2/index.ts';
import { train, type Checkpoint } from '../../engine/train/index.ts';
import { modelPrefix, runDataPrefix, runPrefix, type ArtifactStore, type StoredObject } from '../../infra/storage/index.ts';
import { uniqueName } from '../helpers/names.ts';
import { testStore } from '../helpers/storage.ts';
import { SoftmaxRegression } from '../train/softmax-regression.ts';

// GPT-2 small's width and vocabulary with 4 blocks (68 M parameters): one scoring call of 512
// tokens is ~70 GFLOP, about a second on the 2-core build machine.
const config: Gpt2Config = { ...presetConfig('gpt2'), nLayer: 4 };
/** The largest event-loop delay allowed while the evaluation runs; scoring on the loop blocks it far longer. */
const LOOP_DELAY_BOUND_MS = 250;
const SEED = 'evaluate-off-thread';
const jobId = uniqueName('eval-thread');
const baseModelId = uniqueName('eval-thread-base');
// 16 usable rows of 64 tokens between empty slots: two scoring calls of 8 rows.
const slots: number[][] = Array.from({ length: 20 }, (_, i) => (i % 5 === 4 ? [] : Array.from({ length: 64 }, (_, t) => (i * 7919 + t * 104729) % config.vocabSize)));
const input: EvaluateInput = { jobId, checkpointStep: 1, base: { base: `models/${baseModelId}`, seed: SEED }, dataPrefix: runDataPrefix(jobId), evaluationEpsilon: null };

let store: ArtifactStore;
let expectedLoss: number;
let inlineMaxDelayMs: number;

/** A trainer's checkpoint (sampler, noise and accountant states of a real run) carrying the GPT-2's weights. */
async function checkpointWith(params: Float32Array[], paramSpecs: Checkpoint['paramSpecs']): Promise<Checkpoint> {
  let last: Checkpoint | undefined;
  const model = new SoftmaxRegression({ rowCount: 20, features: 3, classes: 2 });
  await train(
    { config: { rowCount: 20, targetEpsilon: 'unlimited', batchSize: 10, epochs: 0.1, maxGradNorm: 1, lr: 0.1, physicalBatchSize: 10, accountant: 'rdp', checkpointEvery: 1 }, model, runKey: RunKey.generate(), initialParams: model.initialParams() },
    { onCheckpoint: (c) => { last = c; } },
  );
  return { ...last!, step: 1, paramSpecs, params, optimizerState: { kind: last!.optimizerState.kind, stepCount: 1, slots: {} } };
}

/** Runs `work` and returns it with the largest delay the event loop saw meanwhile. */
async function withLoopDelay<T>(work: () => Promise<T>): Promise<{ value: T; maxDelayMs: number }> {
  const monitor = monitorEventLoopDelay({ resolution: 10 });
  monitor.enable();
  try {
    const value = await work();
    return { value, maxDelayMs: monitor.max / 1e6 };
  } finally {
    monitor.disable();
  }
}

before(async () => {
  store = await testStore();
  const weights = randomWeights(config, SEED);
  // The base is a registered model: its folder gives the configuration; the checkpoint the weights.
  const dir = await mkdtemp(join(tmpdir(), 'veil-eval-thread-'));
  try {
    await saveCheckpoint(dir, { config, weights });
    const objects: StoredObject[] = [];
    for (const file of (await readdir(dir)).sort()) objects.push(await store.putImmutable(`${modelPrefix(baseModelId)}/${file}`, createReadStream(join(dir, file))));
    await store.writeManifest(modelPrefix(baseModelId), objects, {});
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const names = [...weights.keys()];
  await uploadCheckpoint(store, jobId, await checkpointWith(names.map((n) => weights.get(n)!.data), names.map((n) => ({ name: n, shape: weights.get(n)!.shape }))));
  const tokens = await store.putImmutable(`${input.dataPrefix}/test.tokens`, encodeTokenizedRows(slots));
  await store.writeManifest(input.dataPrefix, [tokens], {});

  // The reference: the same scorer on this thread, in the evaluation's batches of 32 rows.
  const scorer = await SequenceScorer.create({ config, weights });
  try {
    const rows = slots.filter((r) => r.length >= 2);
    const inline = await withLoopDelay(async () => {
      const losses: number[] = [];
      for (let i = 0; i < rows.length; i += 32) losses.push(...(await rowLosses(scorer, rows.slice(i, i + 32))));
      return losses;
    });
    let sum = 0;
    for (const loss of inline.value) sum += loss;
    expectedLoss = sum / inline.value.length;
    inlineMaxDelayMs = inline.maxDelayMs;
  } finally {
    await scorer.release();
  }
});

after(async () => {
  for (const prefix of [runPrefix(jobId), modelPrefix(baseModelId)]) await store?.deletePrefix(prefix);
  await rm(join(tmpdir(), 'veil', 'base-models', jobId), { recursive: true, force: true });
});

test('scoring on the event loop blocks it beyond the bound (what the activity must avoid)', () => {
  assert.ok(inlineMaxDelayMs > LOOP_DELAY_BOUND_MS, `scoring on this thread delayed the loop by only ${inlineMaxDelayMs.toFixed(0)} ms: the bound cannot tell`);
});

test('the evaluation scores in a worker thread: the loop stays free, heartbeats flow, the loss is the same', async (t) => {
  const env = new MockActivityEnvironment({ heartbeatTimeoutMs: 10_000 });
  const beats: number[] = [];
  env.on('heartbeat', () => beats.push(performance.now()));
  const started = performance.now();
  const { value, maxDelayMs } = await withLoopDelay(() => env.run(evaluateModel, input) as Promise<Evaluation>);
  const ended = performance.now();
  assert.equal(value.testLoss, expectedLoss, 'the same scorer and batches give the same mean, to the bit');
  assert.equal(value.rows, slots.length, 'the number of test slots, usable or not');
  assert.equal(value.epsilon, null);
  t.diagnostic(`largest event-loop delay: ${maxDelayMs.toFixed(0)} ms in the activity, ${inlineMaxDelayMs.toFixed(0)} ms scoring on this thread; ${beats.length} heartbeats in ${((ended - started) / 1000).toFixed(1)} s`);
  assert.ok(maxDelayMs < LOOP_DELAY_BOUND_MS, `the event loop was delayed by ${maxDelayMs.toFixed(0)} ms (on this thread: ${inlineMaxDelayMs.toFixed(0)} ms)`);
  assert.ok(beats.length >= 2, `only ${beats.length} heartbeats`);
  const times = [started, ...beats, ended];
  const widest = Math.max(...times.slice(1).map((t, i) => t - times[i]));
  assert.ok(widest < COMPUTE_HEARTBEAT_EVERY_MS + LOOP_DELAY_BOUND_MS, `${widest.toFixed(0)} ms between heartbeats`);
});

test('a cancelled evaluation stops and throws the cancellation', async () => {
  const env = new MockActivityEnvironment({ heartbeatTimeoutMs: 10_000 });
  let cancelledAt = 0;
  let beats = 0;
  // The third heartbeat comes a few seconds in, with the worker thread loading or scoring.
  env.on('heartbeat', () => {
    if (++beats !== 3) return;
    cancelledAt = performance.now();
    env.cancel('CANCELLED');
  });
  await assert.rejects(env.run(evaluateModel, input), (err: unknown) => err instanceof CancelledFailure);
  assert.ok(performance.now() - cancelledAt < 2_000, 'the activity returns without waiting for the scoring');
});
