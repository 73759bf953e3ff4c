// Book-keeping clipping in one pass against the explicit per-example loop (a batch of one each,
// clipped in JS with the shared clipFactor), on the tiny golden GPT-2 with padding, repeated
// tokens, a one-token example and an all-padding row; ghost and explicit norms agree.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { clipFactor } from '../../engine/dp/clipping.ts';
import type { Gpt2Checkpoint } from '../../engine/gpt2/checkpoint.ts';
import { TrainStepSession, type TrainStepResult } from '../../engine/train-graph/index.ts';
import { loadTinyModel, tokenBatch } from './fixture.ts';

const T = 10;
const rows = [
  [464, 3290, 464, 464, 257, 3290, 11, 464, 257, 13],
  [1212, 318, 257, 1212, 1212, 318],
  [40, 40, 40, 40, 40, 40, 40, 40, 40, 40],
  [50256],
  [],
];
const padId = 257;
const ids = rows.map((r) => Array.from({ length: T }, (_, t) => (t < r.length ? r[t] : padId)));
const mask = rows.map((r) => Array.from({ length: T }, (_, t) => (t < r.length ? 1 : 0)));

let tiny: Gpt2Checkpoint;
let perExample: TrainStepResult[];
let exampleNorms: number[];
let sumSession: TrainStepSession;

before(async () => {
  tiny = await loadTinyModel();
  sumSession = await TrainStepSession.create(tiny.config, { seqLen: T, mode: 'sum' });
  perExample = [];
  for (let b = 0; b < rows.length; b++) perExample.push(await sumSession.run(tiny.weights, tokenBatch([ids[b]], [mask[b]])));
  exampleNorms = perExample.map((r) => {
    let s = 0;
    for (const g of r.grads.values()) for (let i = 0; i < g.length; i++) s += g[i] * g[i];
    return Math.sqrt(s);
  });
});

/** Σ_b f_b·g_b over the per-example runs, in float64. */
function weightedSum(factors: number[]): Map<string, Float64Array> {
  const out = new Map<string, Float64Array>();
  for (const name of perExample[0].grads.keys()) {
    const acc = new Float64Array(perExample[0].grads.get(name)!.length);
    perExample.forEach((r, b) => {
      const g = r.grads.get(name)!;
      for (let i = 0; i < g.length; i++) acc[i] += factors[b] * g[i];
    });
    out.set(name, acc);
  }
  return out;
}

/** ‖actual − expected‖ / ‖expected‖ over all parameters as one vector. */
function relativeError(actual: Map<string, ArrayLike<number>>, expected: Map<string, Float64Array>): number {
  let diff = 0;
  let ref = 0;
  for (const [name, e] of expected) {
    const a = actual.get(name)!;
    for (let i = 0; i < e.length; i++) {
      diff += (a[i] - e[i]) ** 2;
      ref += e[i] ** 2;
    }
  }
  return Math.sqrt(diff / ref);
}

void test('examples without targets contribute nothing', () => {
  assert.equal(exampleNorms[3], 0);
  assert.equal(exampleNorms[4], 0);
  assert.ok(exampleNorms.slice(0, 3).every((n) => n > 0));
  assert.equal(perExample[4].exampleLoss[0], 0);
});

for (const ghost of ['auto', 'always', 'never'] as const) {
  void test(`clipped sum in one pass equals the per-example loop (norms: ${ghost})`, async () => {
    const positive = exampleNorms.filter((n) => n > 0).sort((a, b) => a - b);
    const clipNorm = (positive[0] + positive[1]) / 2; // clips some examples, not others
    const factors = exampleNorms.map((n) => clipFactor(n, clipNorm));
    assert.ok(factors.some((f) => f < 1) && factors.some((f, b) => f === 1 && exampleNorms[b] > 0));

    const session = await TrainStepSession.create(tiny.config, { seqLen: T, mode: 'clipped', ghost });
    const r = await session.run(tiny.weights, tokenBatch(ids, mask), clipNorm);
    await session.release();
    exampleNorms.forEach((n, b) => assert.ok(Math.abs(r.exampleGradNorm![b] - n) <= 1e-5 * Math.max(n, 1e-3), `norm ${b}: ${r.exampleGradNorm![b]} vs ${n}`));
    const err = relativeError(r.grads, weightedSum(factors));
    assert.ok(err <= 1e-5, `relative error ${err.toExponential(2)}`);
  });
}

void test('a clip norm above every example norm gives the plain sum', async () => {
  const session = await TrainStepSession.create(tiny.config, { seqLen: T, mode: 'clipped' });
  const clipped = await session.run(tiny.weights, tokenBatch(ids, mask), 10 * Math.max(...exampleNorms));
  await session.release();
  const plain = await sumSession.run(tiny.weights, tokenBatch(ids, mask));
  const plain64 = new Map([...plain.grads].map(([n, g]) => [n, Float64Array.from(g)]));
  assert.ok(relativeError(clipped.grads, plain64) <= 1e-6);
  assert.ok(relativeError(plain.grads, weightedSum(exampleNorms.map(() => 1))) <= 1e-5, 'the batch sum equals the per-example sum');
});

void test('padding is inert: other ids under the mask change nothing', async () => {
  const repadded = ids.map((row, b) => row.map((id, t) => (mask[b][t] ? id : 1000 + t)));
  const a = await sumSession.run(tiny.weights, tokenBatch(ids, mask));
  const b = await sumSession.run(tiny.weights, tokenBatch(repadded, mask));
  for (const [name, g] of a.grads) assert.deepEqual(b.grads.get(name), g, name);
  assert.deepEqual(b.exampleLoss, a.exampleLoss);
});
