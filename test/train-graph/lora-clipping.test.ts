// DP-LoRA's training graph against PEFT (float64, the explicit per-example loop) on the tiny golden
// GPT-2 with adapters on all four projections: per-example norms over the adapters only, the
// clipped sum and the plain sum of the adapters' gradients; ghost and explicit norms agree; the
// frozen base gets no gradient (none is even formed in the graph).
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import type { Gpt2Checkpoint } from '../../engine/gpt2/checkpoint.ts';
import { readPeftAdapter } from '../../engine/lora/peft-adapter.ts';
import type { AdapterWeights } from '../../engine/lora/adapters.ts';
import { buildTrainStepGraph, type ParamValue, type TrainStepResult } from '../../engine/train-graph/index.ts';
import { TrainStepSession } from '../../engine/train-graph/train-step-session.ts';
import type { GhostPolicy } from '../../engine/train-graph/ghost-norms.ts';
import { loadTinyModel, relativeMaxError, tokenBatch } from './fixture.ts';
import { loadLoraFixture, peftAdapterDir, type LoraFixture } from './lora-fixture.ts';

let fx: LoraFixture;
let tiny: Gpt2Checkpoint;
let adapters: AdapterWeights;

before(async () => {
  fx = loadLoraFixture();
  tiny = await loadTinyModel();
  const read = await readPeftAdapter(peftAdapterDir, tiny.config);
  assert.deepEqual(read.spec, fx.lora);
  adapters = read.weights;
});

function weightsAs(dtype: 'float32' | 'float64'): Map<string, ParamValue> {
  const all = [...tiny.weights, ...adapters];
  return new Map(all.map(([n, t]) => [n, { shape: t.shape, data: dtype === 'float32' ? t.data : Float64Array.from(t.data) }]));
}

async function run(mode: 'sum' | 'clipped', dtype: 'float32' | 'float64', ghost: GhostPolicy = 'auto'): Promise<TrainStepResult> {
  const session = await TrainStepSession.create(tiny.config, { seqLen: fx.seqLen, mode, dtype, ghost, lora: fx.lora });
  try {
    assert.deepEqual(session.trainable, fx.layout.sum.map((e) => e.name), 'the adapters, in PEFT’s order');
    return await session.run(weightsAs(dtype), tokenBatch(fx.inputIds, fx.attentionMask), fx.clipNorm);
  } finally {
    await session.release();
  }
}

function assertGrads(result: TrainStepResult, mode: 'sum' | 'clipped', tolerance: number): void {
  assert.equal(result.grads.size, fx.layout[mode].length, 'gradients for the adapters only');
  for (const entry of fx.layout[mode]) {
    const grad = result.grads.get(entry.name);
    assert.ok(grad, `no gradient for ${entry.name}`);
    const err = relativeMaxError(grad, fx.values.subarray(entry.offset, entry.offset + entry.length));
    assert.ok(err <= tolerance, `${mode} ${entry.name}: relative error ${err.toExponential(2)} > ${tolerance}`);
  }
}

function assertClose(actual: ArrayLike<number>, expected: readonly number[], tolerance: number, what: string): void {
  expected.forEach((e, i) => assert.ok(Math.abs(actual[i] - e) <= tolerance * Math.max(1, Math.abs(e)), `${what}[${i}]: ${actual[i]} vs ${e}`));
}

for (const [dtype, tolerance] of [['float32', 1e-4], ['float64', 1e-6]] as const) {
  // float64 is bounded by the fixture's float32 storage of the gradients, not by the graph.
  void describe(`DP-LoRA training step vs PEFT's per-example loop (${dtype})`, () => {
    void test('sum of per-example adapter gradients and the losses', async () => {
      const r = await run('sum', dtype);
      assertGrads(r, 'sum', tolerance);
      assertClose(r.exampleLoss, fx.exampleLosses, tolerance, 'example loss');
    });

    void test('per-example norms over the adapters and the clipped sum', async () => {
      const r = await run('clipped', dtype);
      assert.ok(fx.clipFactors.some((c) => c < 1) && fx.clipFactors.some((c, i) => c === 1 && fx.exampleGradNorms[i] > 0), 'the batch mixes clipped and unclipped examples');
      assertClose(r.exampleGradNorm!, fx.exampleGradNorms, tolerance, 'per-example norm');
      assertGrads(r, 'clipped', tolerance);
    });
  });
}

for (const ghost of ['always', 'never'] as const) {
  void test(`ghost norms '${ghost}' give the same clipped adapter gradients`, async () => {
    const r = await run('clipped', 'float64', ghost);
    assertClose(r.exampleGradNorm!, fx.exampleGradNorms, 1e-6, 'per-example norm');
    assertGrads(r, 'clipped', 1e-6);
  });
}

void test('the frozen base forms no gradient: no embedding scatter, adapters only as outputs, a smaller graph', () => {
  const options = { seqLen: fx.seqLen, mode: 'clipped' as const };
  const full = buildTrainStepGraph(tiny.config, options);
  const lora = buildTrainStepGraph(tiny.config, { ...options, lora: fx.lora });
  const ops = (g: typeof full, type: string) => g.nodes.filter((n) => n.opType === type).length;
  assert.ok(ops(full, 'ScatterElements') > 0);
  assert.equal(ops(lora, 'ScatterElements'), 0, 'the tied embedding gradient is not formed');
  const gradOutputs = lora.outputs.filter((o) => o.name.startsWith('grad.')).map((o) => o.name);
  assert.deepEqual(gradOutputs, fx.layout.sum.map((e) => `grad.${e.name}`));
  assert.ok(lora.nodes.length < full.nodes.length, `${lora.nodes.length} nodes vs ${full.nodes.length}`);
});
