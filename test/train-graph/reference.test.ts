// Whole-model gradients against PyTorch (transformers, float64) on the tiny golden GPT-2: the
// plain sum of per-example gradients, the per-example norms (with the tied embedding's cross
// term), and the clipped sum, on a batch with padding, repeated tokens and an example without targets.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import type { Gpt2Checkpoint } from '../../engine/gpt2/checkpoint.ts';
import { TrainStepSession, type ParamValue, type TrainStepResult } from '../../engine/train-graph/index.ts';
import { loadTinyModel, loadTrainFixture, relativeMaxError, storedPart, tokenBatch, type TrainFixture } from './fixture.ts';

let fx: TrainFixture;
let tiny: Gpt2Checkpoint;

before(async () => {
  fx = loadTrainFixture();
  tiny = await loadTinyModel();
});

function weightsAs(dtype: 'float32' | 'float64'): Map<string, ParamValue> {
  return new Map([...tiny.weights].map(([n, t]) => [n, { shape: t.shape, data: dtype === 'float32' ? t.data : Float64Array.from(t.data) }]));
}

async function runMode(mode: 'sum' | 'clipped', dtype: 'float32' | 'float64', exampleLoss: 'sum' | 'mean' = 'sum'): Promise<TrainStepResult> {
  const session = await TrainStepSession.create(tiny.config, { seqLen: fx.seqLen, mode, dtype, exampleLoss });
  try {
    return await session.run(weightsAs(dtype), tokenBatch(fx.inputIds, fx.attentionMask), fx.clipNorm);
  } finally {
    await session.release();
  }
}

function frobenius(x: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i] * x[i];
  return Math.sqrt(s);
}

function assertMatchesReference(result: TrainStepResult, mode: 'sum' | 'clipped', tolerance: number): void {
  for (const entry of fx.layout[mode]) {
    const grad = result.grads.get(entry.name);
    assert.ok(grad, `no gradient for ${entry.name}`);
    assert.equal(grad.length, entry.shape.reduce((a, b) => a * b, 1), entry.name);
    const expected = fx.values.subarray(entry.offset, entry.offset + entry.length);
    const err = relativeMaxError(storedPart(grad, entry), expected);
    assert.ok(err <= tolerance, `${mode} ${entry.name}: relative error ${err.toExponential(2)} > ${tolerance}`);
    if (entry.frobenius !== undefined) {
      const f = frobenius(grad);
      assert.ok(Math.abs(f - entry.frobenius) <= tolerance * entry.frobenius, `${entry.name}: ‖grad‖ ${f} vs ${entry.frobenius}`);
    }
    if (entry.name === 'wpe.weight') {
      const width = entry.shape[1];
      assert.ok(grad.subarray(fx.seqLen * width).every((v) => v === 0), 'positions beyond the sequence get no gradient');
    }
  }
}

function assertClose(actual: ArrayLike<number>, expected: readonly number[], tolerance: number, what: string): void {
  expected.forEach((e, i) => assert.ok(Math.abs(actual[i] - e) <= tolerance * Math.max(1, Math.abs(e)), `${what}[${i}]: ${actual[i]} vs ${e}`));
}

for (const [dtype, tolerance] of [['float32', 1e-4], ['float64', 1e-6]] as const) {
  // float64 is bounded by the fixture's float32 storage, not by the graph.
  void describe(`GPT-2 training step vs PyTorch (${dtype})`, () => {
    void test('sum of per-example gradients, every parameter', async () => {
      const r = await runMode('sum', dtype);
      assertMatchesReference(r, 'sum', tolerance);
      assertClose(r.exampleLoss, fx.exampleLosses, tolerance, 'example loss');
      assert.deepEqual(Array.from(r.exampleTargets), fx.attentionMask.map((m) => Math.max(0, m.reduce((a, b) => a + b, 0) - 1)));
      assert.equal(r.exampleGradNorm, undefined);
    });

    void test('per-example norms and the clipped sum', async () => {
      const r = await runMode('clipped', dtype);
      assert.ok(r.exampleGradNorm);
      assertClose(r.exampleGradNorm, fx.exampleGradNorms, tolerance, 'per-example norm');
      assert.ok(fx.clipFactors.some((c) => c < 1) && fx.clipFactors.some((c, i) => c === 1 && fx.exampleGradNorms[i] > 0), 'the batch mixes clipped and unclipped examples');
      assertMatchesReference(r, 'clipped', tolerance);
    });

    void test('per-example-mean loss: losses and per-example norms', async () => {
      const r = await runMode('clipped', dtype, 'mean');
      assertClose(r.exampleLoss, fx.meanLoss.exampleLosses, tolerance, 'example loss');
      assertClose(r.exampleGradNorm!, fx.meanLoss.exampleGradNorms, tolerance, 'per-example norm');
    });
  });
}
