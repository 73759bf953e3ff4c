// A run checkpointed, encoded, decoded and resumed ends bit-identical to one that never stopped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RunKey } from '../../engine/dp/index.ts';
import { TrainConfigError, decodeCheckpoint, encodeCheckpoint, train, type Checkpoint, type ProgressEvent, type TrainConfig } from '../../engine/train/index.ts';
import { SoftmaxRegression } from './softmax-regression.ts';

const runKey = new RunKey(new Uint8Array(32).fill(9));
const modelOptions = { rowCount: 300, features: 5, classes: 3 };

function bytes(arrays: readonly Float32Array[]): Buffer {
  return Buffer.concat(arrays.map((a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength)));
}

interface Outcome {
  params: Buffer;
  optimizer: Buffer;
  epsilon: number;
  events: Omit<ProgressEvent, 'elapsedMs'>[];
  checkpoints: Checkpoint[];
}

async function run(config: TrainConfig, options: { stopAfter?: number; resumeFrom?: Checkpoint; key?: RunKey; prefetchNoise?: boolean } = {}): Promise<Outcome> {
  const model = new SoftmaxRegression(modelOptions);
  const events: Omit<ProgressEvent, 'elapsedMs'>[] = [];
  const checkpoints: Checkpoint[] = [];
  const result = await train(
    {
      config, model, runKey: options.key ?? runKey, resumeFrom: options.resumeFrom, prefetchNoise: options.prefetchNoise,
      initialParams: options.resumeFrom ? undefined : model.initialParams(),
      shouldStop: () => options.stopAfter !== undefined && events.length >= options.stopAfter,
    },
    {
      onProgress: ({ elapsedMs: _elapsed, ...event }) => events.push(event),
      onCheckpoint: (checkpoint) => { checkpoints.push(checkpoint); },
    },
  );
  const last = checkpoints.at(-1)!;
  assert.equal(last.step, result.step);
  return { params: bytes(result.params), optimizer: bytes(Object.values(last.optimizerState.slots).flat()), epsilon: result.epsilon, events, checkpoints };
}

const cases: [string, TrainConfig][] = [
  ['private AdamW with warm-up and PRV accounting', {
    rowCount: 300, targetEpsilon: 3, batchSize: 30, epochs: 1.2, maxGradNorm: 0.7, lr: 0.05, warmupSteps: 2, minLr: 0.001,
    physicalBatchSize: 8, accountant: 'prv', checkpointEvery: 4, optimizer: { kind: 'adamw', weightDecay: 0.1 },
  }],
  ['non-private SGD with momentum', {
    rowCount: 300, targetEpsilon: 'unlimited', batchSize: 20, epochs: 0.8, maxGradNorm: 1, lr: 0.1, checkpointEvery: 5,
    optimizer: { kind: 'sgd', momentum: 0.9, weightDecay: 0.01 },
  }],
];

for (const [name, config] of cases) {
  void test(`${name}: stop at step 5, encode, decode, resume → bit-identical to an uninterrupted run`, async () => {
    const straight = await run(config);
    const totalSteps = straight.events.length;
    assert.ok(totalSteps >= 10);
    const first = await run(config, { stopAfter: 5 });
    assert.equal(first.events.length, 5);
    const stopCheckpoint = first.checkpoints.at(-1)!;
    assert.equal(stopCheckpoint.step, 5);
    const resumed = await run(config, { resumeFrom: decodeCheckpoint(encodeCheckpoint(stopCheckpoint)) });

    assert.ok(resumed.params.equals(straight.params), 'parameters differ');
    assert.ok(resumed.optimizer.equals(straight.optimizer), 'optimizer state differs');
    assert.equal(resumed.epsilon, straight.epsilon);
    assert.deepEqual([...first.events, ...resumed.events], straight.events);
    assert.deepEqual(resumed.checkpoints.at(-1)!.accountantState, straight.checkpoints.at(-1)!.accountantState);
    assert.notDeepEqual(stopCheckpoint.params, straight.checkpoints.at(-1)!.params, 'the run must have moved after step 5');

    // The uninterrupted run's periodic checkpoint resumes to the same end too.
    const periodic = straight.checkpoints.find((c) => c.step === (config.checkpointEvery ?? 0) * 2)!;
    assert.ok(periodic, 'periodic checkpoint');
    const fromPeriodic = await run(config, { resumeFrom: decodeCheckpoint(encodeCheckpoint(periodic)) });
    assert.ok(fromPeriodic.params.equals(straight.params));
  });
}

void test('resume is refused with another key, another config or other random streams', async () => {
  const config = cases[1][1];
  const { checkpoints } = await run(config, { stopAfter: 2 });
  const checkpoint = checkpoints.at(-1)!;
  await assert.rejects(run(config, { resumeFrom: checkpoint, key: RunKey.generate() }), TrainConfigError);
  await assert.rejects(run({ ...config, lr: 0.2 }, { resumeFrom: checkpoint }), TrainConfigError);
  await assert.rejects(run(config, { resumeFrom: { ...checkpoint, rngVersion: 'veil-dp-rng-0' } }), TrainConfigError);
  await assert.rejects(run(config, { resumeFrom: { ...checkpoint, noiseState: { kind: 'gaussian', nextStep: 1 } } }), TrainConfigError);
  // checkpointEvery does not change the result, so it may differ.
  const resumed = await run({ ...config, checkpointEvery: 0 }, { resumeFrom: checkpoint });
  assert.equal(resumed.checkpoints.length, 1);
});

void test('a checkpoint whose accountant disagrees with its plan is refused', async () => {
  const config = cases[0][1];
  const { checkpoints } = await run(config, { stopAfter: 1 });
  const checkpoint = checkpoints.at(-1)!;
  const rdpState = { accountant: 'rdp', version: 1, history: (checkpoint.accountantState as { history: unknown }).history };
  await assert.rejects(run(config, { resumeFrom: { ...checkpoint, accountantState: rdpState } }), TrainConfigError);
  const noSteps = { ...(checkpoint.accountantState as object), history: [] };
  await assert.rejects(run(config, { resumeFrom: { ...checkpoint, accountantState: noSteps } }), TrainConfigError);
});

void test('noise prefetched by a worker thread, stopped and resumed, ends bit-identical to the inline noise', async () => {
  const config = cases[0][1];
  const inline = await run(config, { prefetchNoise: false });
  const first = await run(config, { stopAfter: 5, prefetchNoise: true });
  const resumed = await run(config, { resumeFrom: decodeCheckpoint(encodeCheckpoint(first.checkpoints.at(-1)!)), prefetchNoise: true });
  assert.ok(resumed.params.equals(inline.params), 'parameters');
  assert.ok(resumed.optimizer.equals(inline.optimizer), 'optimizer state');
});
