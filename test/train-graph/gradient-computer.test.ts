// The GPT-2 GradientComputer: accumulates into the trainer's buffers, reports token-level loss
// statistics, matches the PyTorch reference, is independent of the padded length it runs at,
// and drives engine/train's DP-SGD loop.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import type { Gpt2Checkpoint } from '../../engine/gpt2/checkpoint.ts';
import { Gpt2GradientComputer } from '../../engine/train-graph/index.ts';
import { train } from '../../engine/train/trainer.ts';
import { loadTinyModel, loadTrainFixture, relativeMaxError, storedPart, type TrainFixture } from './fixture.ts';

let fx: TrainFixture;
let tiny: Gpt2Checkpoint;
let rows: number[][];

before(async () => {
  fx = loadTrainFixture();
  tiny = await loadTinyModel();
  rows = fx.inputIds.map((ids, b) => ids.filter((_, t) => fx.attentionMask[b][t] === 1));
});

const params = () => [...tiny.weights.values()].map((w) => w.data);
const zeros = (c: Gpt2GradientComputer) => c.paramSpecs.map((s) => new Float32Array(s.shape.reduce((a, b) => a * b, 1)));

void test('clipped micro-batches add up to the PyTorch clipped sum; stats are token-level', async () => {
  const computer = new Gpt2GradientComputer({ config: tiny.config, rows, seqLen: fx.seqLen });
  assert.deepEqual(computer.paramSpecs.map((s) => s.name), [...tiny.weights.keys()]);
  assert.equal(computer.paramSpecs.find((s) => s.name === 'h.0.ln_1.weight')?.weightDecay, false);
  assert.equal(computer.paramSpecs.find((s) => s.name === 'h.0.mlp.c_fc.bias')?.weightDecay, false);
  assert.equal(computer.paramSpecs.find((s) => s.name === 'wte.weight')?.weightDecay, true);
  const gradSum = zeros(computer);
  const mode = { clipNorm: fx.clipNorm };
  const first = await computer.computeMicroBatch(params(), [0, 3], mode, gradSum);
  const second = await computer.computeMicroBatch(params(), [2, 1], mode, gradSum);
  await computer.release();
  for (const entry of fx.layout.clipped) {
    const k = computer.paramSpecs.findIndex((s) => s.name === entry.name);
    const err = relativeMaxError(storedPart(gradSum[k], entry), fx.values.subarray(entry.offset, entry.offset + entry.length));
    assert.ok(err <= 1e-4, `${entry.name}: ${err}`);
  }
  const targets = rows.map((r) => Math.max(0, r.length - 1));
  assert.equal(first.exampleCount + second.exampleCount, 4);
  assert.equal(first.tokenCount + second.tokenCount, targets.reduce((a, b) => a + b, 0));
  const lossSum = fx.exampleLosses.reduce((a, b) => a + b, 0); // 'sum' losses: Σ of token losses
  assert.ok(Math.abs(first.lossSum + second.lossSum - lossSum) <= 1e-4 * lossSum);
});

void test('a micro-batch padded to a shorter length bucket gives the same gradients', async () => {
  const long = new Gpt2GradientComputer({ config: tiny.config, rows, seqLen: fx.seqLen });
  const bucketed = new Gpt2GradientComputer({ config: tiny.config, rows, seqLen: fx.seqLen, lengthBuckets: [4, 8], padTokenId: 50256 });
  const a = zeros(long);
  const b = zeros(bucketed);
  const statsA = await long.computeMicroBatch(params(), [1, 2, 3], 'nonprivate', a); // longest row: 7 tokens → bucket 8
  const statsB = await bucketed.computeMicroBatch(params(), [1, 2, 3], 'nonprivate', b);
  await long.release();
  await bucketed.release();
  assert.equal(statsA.tokenCount, statsB.tokenCount);
  assert.ok(Math.abs(statsA.lossSum - statsB.lossSum) <= 1e-5 * statsA.lossSum);
  a.forEach((g, k) => assert.ok(relativeMaxError(b[k], g) <= 1e-5, long.paramSpecs[k].name));
});

void test('empty slots (rows the preprocessing rejected) count as examples and add nothing', async () => {
  const slotted = new Gpt2GradientComputer({ config: tiny.config, rows: [rows[0], [], rows[1], []], seqLen: fx.seqLen });
  const plain = new Gpt2GradientComputer({ config: tiny.config, rows: [rows[0], rows[1]], seqLen: fx.seqLen });
  const mode = { clipNorm: fx.clipNorm };
  const a = zeros(slotted);
  const b = zeros(plain);
  const withEmpty = await slotted.computeMicroBatch(params(), [0, 1, 2, 3], mode, a);
  const without = await plain.computeMicroBatch(params(), [0, 1], mode, b);
  assert.equal(withEmpty.exampleCount, 4, 'the trainer sees every sampled slot processed');
  assert.equal(withEmpty.tokenCount, without.tokenCount);
  a.forEach((g, k) => assert.ok(relativeMaxError(b[k], g) <= 1e-6, slotted.paramSpecs[k].name));
  const onlyEmpty = zeros(slotted);
  assert.deepEqual(await slotted.computeMicroBatch(params(), [1, 3], mode, onlyEmpty), { lossSum: 0, tokenCount: 0, exampleCount: 2 });
  assert.ok(onlyEmpty.every((g) => g.every((x) => x === 0)));
  await slotted.release();
  await plain.release();
});

void test('rejects token ids outside the vocabulary and unknown rows', async () => {
  assert.throws(() => new Gpt2GradientComputer({ config: tiny.config, rows: [[1, 50257]] }), /not a token id/);
  const computer = new Gpt2GradientComputer({ config: tiny.config, rows: [[1, 2]] });
  await assert.rejects(computer.computeMicroBatch(params(), [1], 'nonprivate', zeros(computer)), /outside/);
});

void test('drives engine/train: two private DP-SGD steps move the weights', async () => {
  const computer = new Gpt2GradientComputer({ config: tiny.config, rows: [...rows, ...rows], seqLen: fx.seqLen });
  const initial = params().map((p) => Float32Array.from(p));
  const losses: number[] = [];
  const result = await train(
    {
      config: { rowCount: 8, targetEpsilon: 8, batchSize: 4, epochs: 1, maxGradNorm: 1, lr: 1e-3, physicalBatchSize: 3 },
      model: computer,
      initialParams: initial,
      runKey: new Uint8Array(32).fill(7),
    },
    { onProgress: (e) => { if (e.loss !== null) losses.push(e.loss); } },
  );
  await computer.release();
  assert.equal(result.status, 'completed');
  assert.equal(result.step, 2);
  assert.ok(losses.every(Number.isFinite) && losses.length > 0);
  const moved = result.params.some((p, k) => p.some((v, i) => v !== tiny.weights.get(computer.paramSpecs[k].name)!.data[i]));
  assert.ok(moved);
});

void test('a private micro-batch costs the same whatever its slots hold: empty slots run as zero-weight rows, with the same clipped sum', async () => {
  const withEmpty = [...rows, [], [rows[0][0]]]; // an empty slot, and a row with nothing to predict
  const padded = new Gpt2GradientComputer({ config: tiny.config, rows: withEmpty, seqLen: fx.seqLen });
  const skipping = new Gpt2GradientComputer({ config: tiny.config, rows: withEmpty, seqLen: fx.seqLen, constantCost: false });
  const mode = { clipNorm: fx.clipNorm };
  const a = zeros(padded);
  const b = zeros(skipping);
  const slots = [0, rows.length, 2, rows.length + 1];
  const statsA = await padded.computeMicroBatch(params(), slots, mode, a);
  const statsB = await skipping.computeMicroBatch(params(), slots, mode, b);
  a.forEach((g, k) => {
    assert.ok(g.every(Number.isFinite), `${padded.paramSpecs[k].name} is finite`);
    assert.ok(relativeMaxError(g, b[k]) <= 1e-5, padded.paramSpecs[k].name);
  });
  assert.equal(statsA.tokenCount, statsB.tokenCount);
  // The work done: the same graph run on the same number of rows, whichever slots are empty.
  const allFull = zeros(padded);
  const t0 = performance.now();
  await padded.computeMicroBatch(params(), [0, 1, 2, 3], mode, allFull);
  const full = performance.now() - t0;
  const t1 = performance.now();
  await padded.computeMicroBatch(params(), [rows.length, rows.length, rows.length, rows.length], mode, zeros(padded));
  const empty = performance.now() - t1;
  assert.ok(empty > 0.3 * full, `all-empty micro-batch took ${empty.toFixed(1)} ms vs ${full.toFixed(1)} ms full: its cost does not collapse`);
  await padded.release();
  await skipping.release();
});
