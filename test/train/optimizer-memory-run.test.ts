// A run keeps its gradient sum and optimizer state in the optimizer kernel's memory (updated in
// place) unless told not to: the same checkpoints and weights either way, resumed or not; a
// resumed run that adopts its checkpoint drops the optimizer tensors it copied into that memory;
// and a live checkpoint in a worker, which cannot move that memory, moves copies and keeps it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RunKey } from '../../engine/dp/index.ts';
import { OptimizerMemory } from '../../engine/optim/index.ts';
import { decodeCheckpoint, encodeCheckpoint, train, type Checkpoint, type TrainConfig, type TrainResult } from '../../engine/train/index.ts';
import { restoreCheckpointTensors, withCheckpointTensors } from '../../engine/train/worker-protocol.ts';
import { SoftmaxRegression } from './softmax-regression.ts';

const runKey = new RunKey(new Uint8Array(32).fill(7));
const config: TrainConfig = {
  rowCount: 200, targetEpsilon: 3, batchSize: 20, epochs: 0.6, maxGradNorm: 0.7, lr: 0.05, physicalBatchSize: 8, accountant: 'rdp', checkpointEvery: 2,
};

async function run(options: { optimizerMemory?: boolean; stopAfter?: number; resumeFrom?: Checkpoint; adopt?: boolean }): Promise<{ result: TrainResult; files: Buffer[]; inMemory: boolean[] }> {
  const model = new SoftmaxRegression({ rowCount: 200, features: 6, classes: 3 });
  const files: Buffer[] = [];
  const inMemory: boolean[] = [];
  let steps = 0;
  const result = await train(
    {
      config, model, runKey, resumeFrom: options.resumeFrom, initialParams: options.resumeFrom ? undefined : model.initialParams(),
      optimizerMemory: options.optimizerMemory, adoptResumeState: options.adopt, liveCheckpoints: true,
      shouldStop: () => options.stopAfter !== undefined && steps >= options.stopAfter,
    },
    {
      onProgress: () => { steps++; },
      onCheckpoint: (c) => {
        files.push(Buffer.from(encodeCheckpoint(c)));
        inMemory.push(Object.values(c.optimizerState.slots).flat().every((t) => OptimizerMemory.holds(t)));
      },
    },
  );
  return { result, files, inMemory };
}

const bytes = (arrays: readonly Float32Array[]) => Buffer.concat(arrays.map((a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength)));

void test('a run with its optimizer state in optimizer memory writes the checkpoints and weights of one without', async () => {
  const inMemory = await run({});
  const ordinary = await run({ optimizerMemory: false });
  assert.ok(inMemory.inMemory.length >= 3 && inMemory.inMemory.every(Boolean), 'the default run keeps its optimizer state in optimizer memory');
  assert.ok(ordinary.inMemory.every((held) => !held));
  assert.equal(inMemory.files.length, ordinary.files.length);
  inMemory.files.forEach((file, k) => assert.ok(file.equals(ordinary.files[k]), `checkpoint ${k} differs`));
  assert.ok(bytes(inMemory.result.params).equals(bytes(ordinary.result.params)));
});

void test('resumed into optimizer memory, a run ends bit-identical, and an adopted checkpoint lets go of the state it copied', async () => {
  const straight = await run({ optimizerMemory: false });
  const first = await run({ stopAfter: 3 });
  const resumeFrom = decodeCheckpoint(new Uint8Array(first.files.at(-1)!));
  const resumed = await run({ resumeFrom, adopt: true });
  assert.ok(bytes(resumed.result.params).equals(bytes(straight.result.params)));
  assert.ok(Object.values(resumeFrom.optimizerState.slots).every((slot) => slot.length === 0), 'the adopted checkpoint still holds the optimizer state');
  const again = decodeCheckpoint(new Uint8Array(first.files.at(-1)!));
  const copied = await run({ resumeFrom: again });
  assert.ok(bytes(copied.result.params).equals(bytes(straight.result.params)));
  assert.ok(Object.values(again.optimizerState.slots).every((slot) => slot.length > 0), 'a checkpoint not adopted is left as it was');
});

void test('a live checkpoint posts copies of what stays in optimizer memory, and only what moved comes back', async () => {
  const memory = (await OptimizerMemory.reserve([3, 3]))!;
  const run = { params: [new Float32Array([1, 2, 3])], slots: [memory.copyIn(new Float32Array([4, 5, 6])), memory.copyIn(new Float32Array([7, 8, 9]))] };
  const checkpoint = { params: run.params, optimizerState: { kind: 'adamw', stepCount: 1, slots: { exp_avg: [run.slots[0]], exp_avg_sq: [run.slots[1]] } } } as unknown as Checkpoint;
  const stayed = [false, true, true];
  const posted = withCheckpointTensors(checkpoint, [run.params[0], run.slots[0].slice(), run.slots[1].slice()]);
  assert.equal(posted.params[0], run.params[0]);
  assert.ok(!OptimizerMemory.holds(posted.optimizerState.slots.exp_avg[0]) && posted.optimizerState.slots.exp_avg_sq[0][2] === 9);
  const returned = [new Float32Array([1, 2, 3]), new Float32Array([4, 5, 6]), new Float32Array([7, 8, 9])];
  restoreCheckpointTensors(checkpoint, returned, [3, 3, 3], stayed);
  assert.equal(checkpoint.params[0], returned[0], 'a moved tensor comes back into the run\'s arrays');
  assert.equal(checkpoint.optimizerState.slots.exp_avg[0], run.slots[0], 'a tensor in optimizer memory stays');
  assert.equal(checkpoint.optimizerState.slots.exp_avg_sq[0], run.slots[1]);
});
