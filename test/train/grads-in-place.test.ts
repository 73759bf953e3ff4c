// The step's first micro-batch has onnxruntime write the gradient sums straight into the trainer's
// buffers (no returned weight-sized copy to add), later ones return theirs to be added: the sums
// are the PyTorch reference's, whatever the buffers held before.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import type { Gpt2Checkpoint } from '../../engine/gpt2/checkpoint.ts';
import { Gpt2GradientComputer } from '../../engine/train-graph/index.ts';
import { loadTinyModel, loadTrainFixture, relativeMaxError, storedPart, type TrainFixture } from '../train-graph/fixture.ts';

let fx: TrainFixture;
let tiny: Gpt2Checkpoint;
let rows: number[][];

before(async () => {
  fx = loadTrainFixture();
  tiny = await loadTinyModel();
  rows = fx.inputIds.map((ids, b) => ids.filter((_, t) => fx.attentionMask[b][t] === 1));
});

const params = () => [...tiny.weights.values()].map((w) => w.data);
const filled = (c: Gpt2GradientComputer, value: number) => c.paramSpecs.map((s) => new Float32Array(s.shape.reduce((a, b) => a * b, 1)).fill(value));

void test('written in place on the first micro-batch, added on the next ones: the PyTorch clipped sum', async () => {
  const computer = new Gpt2GradientComputer({ config: tiny.config, rows, seqLen: fx.seqLen });
  const mode = { clipNorm: fx.clipNorm };
  // What the buffers held is overwritten, not added to: a sum over 1e30 would show.
  const inPlace = filled(computer, 1e30);
  const first = await computer.computeMicroBatch(params(), [0, 3], mode, inPlace, { gradSumIsZero: true });
  await computer.computeMicroBatch(params(), [2], mode, inPlace, { gradSumIsZero: false });
  await computer.computeMicroBatch(params(), [1], mode, inPlace, { gradSumIsZero: false });
  const added = filled(computer, 0);
  const firstAdded = await computer.computeMicroBatch(params(), [0, 3], mode, added);
  await computer.computeMicroBatch(params(), [2], mode, added);
  await computer.computeMicroBatch(params(), [1], mode, added);
  await computer.release();
  assert.deepEqual(first, firstAdded);
  for (const entry of fx.layout.clipped) {
    const k = computer.paramSpecs.findIndex((s) => s.name === entry.name);
    const err = relativeMaxError(storedPart(inPlace[k], entry), fx.values.subarray(entry.offset, entry.offset + entry.length));
    assert.ok(err <= 1e-4, `${entry.name}: ${err}`);
  }
  // The same numbers as adding into zeros (0 + g = g; only a zero's sign may differ).
  inPlace.forEach((g, k) => assert.ok(g.every((v, i) => v === added[k][i]), computer.paramSpecs[k].name));
});
