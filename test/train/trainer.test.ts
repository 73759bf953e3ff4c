// The DP-SGD loop with a real model (softmax regression, exact per-example gradients).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PoissonSampler, RunKey, globalNorm } from '../../engine/dp/index.ts';
import { linearWarmupDecay } from '../../engine/optim/index.ts';
import { RdpAccountant } from '../../engine/privacy/index.ts';
import { TrainConfigError, defaultDelta, planRun, train, type ProgressEvent, type TrainConfig } from '../../engine/train/index.ts';
import { SoftmaxRegression } from './softmax-regression.ts';

const runKey = new RunKey(new Uint8Array(32).fill(42));

function std(values: ArrayLike<number>): { mean: number; std: number } {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i];
  const mean = sum / values.length;
  let squares = 0;
  for (let i = 0; i < values.length; i++) squares += (values[i] - mean) ** 2;
  return { mean, std: Math.sqrt(squares / values.length) };
}

void test('a private run: calibrated σ, clipped micro-batches of the Poisson sample, ε rising to at most the target, loss going down', async () => {
  const model = new SoftmaxRegression({ rowCount: 2000, features: 6, classes: 3 });
  const config: TrainConfig = {
    rowCount: 2000, targetEpsilon: 4, batchSize: 200, epochs: 3, maxGradNorm: 1, lr: 0.1, warmupSteps: 3,
    physicalBatchSize: 64, accountant: 'rdp', optimizer: { kind: 'adamw', weightDecay: 0 },
  };
  const events: ProgressEvent[] = [];
  const result = await train({ config, model, initialParams: model.initialParams(), runKey }, { onProgress: (e) => events.push(e) });

  assert.equal(result.status, 'completed');
  assert.equal(result.totalSteps, 30);
  assert.deepEqual(events.map((e) => e.step), Array.from({ length: 30 }, (_, i) => i + 1));
  // ε: increasing, ends at what a fresh accountant gives for 30 steps at (q, σ), never above target.
  const accountant = new RdpAccountant();
  accountant.step(0.1, result.noiseMultiplier, 30);
  assert.equal(result.epsilon, accountant.epsilon(defaultDelta(2000)));
  assert.ok(result.epsilon <= 4 && result.epsilon > 3.9, `ε ${result.epsilon}`);
  for (let i = 1; i < events.length; i++) assert.ok(events[i].epsilon > events[i - 1].epsilon);
  assert.equal(result.delta, defaultDelta(2000));
  // The model saw each step's Poisson sample, in micro-batches of ≤ 64, always clipped to C.
  const sampler = new PoissonSampler(runKey, 2000, 0.1);
  let call = 0;
  for (let step = 0; step < 30; step++) {
    const sample = [...sampler.sampleStep(step)];
    const seen: number[] = [];
    while (seen.length < sample.length) {
      const { rows, mode } = model.calls[call++];
      assert.ok(rows.length <= 64 && rows.length > 0);
      assert.deepEqual(mode, { clipNorm: 1 });
      seen.push(...rows);
    }
    assert.deepEqual(seen, sample, `step ${step}`);
    assert.equal(events[step].batchRows, sample.length);
    assert.equal(events[step].lr, linearWarmupDecay(step, { peakLr: 0.1, warmupSteps: 3, totalSteps: 30 }));
  }
  assert.equal(call, model.calls.length);
  const firstLoss = std(events.slice(0, 3).map((e) => e.loss!)).mean;
  const lastLoss = std(events.slice(-3).map((e) => e.loss!)).mean;
  assert.ok(lastLoss < firstLoss * 0.9, `loss ${firstLoss} → ${lastLoss}`);
});

void test('the update is (clipped sum + N(0, σ²C²)) / (q·N): the noise part has std σC', async () => {
  const rowCount = 200;
  const model = new SoftmaxRegression({ rowCount, features: 1000, classes: 100, featureScale: 3 });
  const C = 0.5;
  // One step (epochs = q), plain SGD at lr 1 from zero weights: params after = −(sum + noise) / (qN).
  const config: TrainConfig = {
    rowCount, targetEpsilon: 2, batchSize: 20, epochs: 0.1, maxGradNorm: C, lr: 1, accountant: 'rdp', optimizer: { kind: 'sgd' },
  };
  const result = await train({ config, model, initialParams: model.initialParams(), runKey });
  assert.equal(result.totalSteps, 1);
  const sigma = result.noiseMultiplier;
  assert.ok(sigma > 0.5, `σ ${sigma}`);

  const reference = new SoftmaxRegression({ rowCount, features: 1000, classes: 100, featureScale: 3 });
  const clippedSum = reference.initialParams();
  const rows = [...new PoissonSampler(runKey, rowCount, 0.1).sampleStep(0)];
  assert.ok(rows.length > 5);
  await reference.computeMicroBatch(reference.initialParams(), rows, { clipNorm: C }, clippedSum);
  // Every example was clipped (features are large), so the sum's norm is at most rows·C.
  for (const row of rows) {
    const { grad } = reference.exampleGradient(reference.initialParams(), row);
    assert.ok(globalNorm(grad) > 10 * C);
  }
  const sumNorm = Math.sqrt(clippedSum.reduce((s, b) => s + b.reduce((t, x) => t + x * x, 0), 0));
  assert.ok(sumNorm <= rows.length * C * (1 + 1e-6) && sumNorm > 0, `‖Σ clipped‖ = ${sumNorm}`);

  const noise: number[] = [];
  result.params.forEach((p, k) => p.forEach((value, i) => noise.push(-value * 20 - clippedSum[k][i])));
  const { mean, std: noiseStd } = std(noise);
  assert.ok(Math.abs(noiseStd / (sigma * C) - 1) < 0.01, `noise std ${noiseStd} vs σC ${sigma * C}`);
  assert.ok(Math.abs(mean) < 0.01 * sigma * C, `noise mean ${mean}`);
});

void test("'unlimited' runs the same loop without clipping or noise: the update is −lr · mean gradient", async () => {
  const rowCount = 300;
  const model = new SoftmaxRegression({ rowCount, features: 5, classes: 4, featureScale: 5 });
  const config: TrainConfig = { rowCount, targetEpsilon: 'unlimited', batchSize: 30, epochs: 0.1, maxGradNorm: 0.01, lr: 0.5, optimizer: { kind: 'sgd' } };
  const events: ProgressEvent[] = [];
  const result = await train({ config, model, initialParams: model.initialParams(), runKey }, { onProgress: (e) => events.push(e) });
  assert.equal(result.epsilon, Infinity);
  assert.equal(result.noiseMultiplier, 0);
  assert.equal(events[0].epsilon, Infinity);
  assert.ok(model.calls.every((c) => c.mode === 'nonprivate'));

  const reference = new SoftmaxRegression({ rowCount, features: 5, classes: 4, featureScale: 5 });
  const rows = [...new PoissonSampler(runKey, rowCount, 0.1).sampleStep(0)];
  const sum = reference.initialParams();
  await reference.computeMicroBatch(reference.initialParams(), rows, 'nonprivate', sum);
  result.params.forEach((p, k) => p.forEach((value, i) => {
    const expected = (-0.5 * sum[k][i]) / rows.length;
    assert.ok(Math.abs(value - expected) < 1e-6 * Math.max(1, Math.abs(expected)), `${value} vs ${expected}`);
  }));
  // With C = 0.01 a clipped update would be tiny; the unclipped one is not.
  assert.ok(Math.max(...result.params[0].map(Math.abs)) > 0.05);
});

void test('empty logical batches still step: noise is added and the accountant counts them', async () => {
  const rowCount = 40;
  const model = new SoftmaxRegression({ rowCount, features: 3, classes: 2 });
  const config: TrainConfig = { rowCount, targetEpsilon: 3, batchSize: 0.4, epochs: 1, maxGradNorm: 1, lr: 0.01, accountant: 'rdp', optimizer: { kind: 'sgd' } };
  const events: ProgressEvent[] = [];
  let previous = model.initialParams();
  let emptyStepsThatMoved = 0;
  const params = model.initialParams();
  const result = await train({ config, model, initialParams: params, runKey }, {
    onProgress: (e) => {
      events.push(e);
      if (e.batchRows === 0) {
        assert.equal(e.loss, null);
        if (params.some((p, k) => p.some((x, i) => x !== previous[k][i]))) emptyStepsThatMoved++;
      }
      previous = params.map((p) => p.slice());
    },
  });
  assert.equal(result.totalSteps, 100);
  assert.equal(events.length, 100);
  const empty = events.filter((e) => e.batchRows === 0).length;
  assert.ok(empty > 50, `only ${empty} empty steps`);
  assert.equal(emptyStepsThatMoved, empty);
  const accountant = new RdpAccountant();
  accountant.step(0.01, result.noiseMultiplier, 100);
  assert.equal(result.epsilon, accountant.epsilon(defaultDelta(rowCount)));
});

void test('micro-batch size changes memory, not the result (up to float rounding)', async () => {
  const config: TrainConfig = { rowCount: 500, targetEpsilon: 5, batchSize: 100, epochs: 1, maxGradNorm: 1, lr: 0.05, accountant: 'rdp' };
  const run = async (physicalBatchSize: number): Promise<{ params: Float32Array[]; largest: number }> => {
    const model = new SoftmaxRegression({ rowCount: 500, features: 4, classes: 3 });
    const result = await train({ config: { ...config, physicalBatchSize }, model, initialParams: model.initialParams(), runKey });
    return { params: result.params, largest: Math.max(...model.calls.map((c) => c.rows.length)) };
  };
  const small = await run(3);
  const whole = await run(1000);
  assert.equal(small.largest, 3);
  assert.ok(whole.largest > 50);
  small.params.forEach((p, k) => p.forEach((x, i) => assert.ok(Math.abs(x - whole.params[k][i]) < 1e-4, `${x} vs ${whole.params[k][i]}`)));
});

void test('the plan: steps = round(epochs·N/B), δ default 1/N^1.1, bad configs refused', () => {
  const base: TrainConfig = { rowCount: 1000, targetEpsilon: 8, batchSize: 50, epochs: 2, maxGradNorm: 1, lr: 1e-3, accountant: 'rdp' };
  const plan = planRun(base);
  assert.equal(plan.totalSteps, 40);
  assert.equal(plan.samplingRate, 0.05);
  assert.equal(plan.delta, 1 / 1000 ** 1.1);
  assert.ok(plan.delta! < 1 / 1000);
  assert.ok(plan.plannedEpsilon <= 8);
  assert.equal(planRun({ ...base, delta: 1e-6 }).delta, 1e-6);
  for (const bad of [
    { batchSize: 0 }, { batchSize: 2000 }, { epochs: 0 }, { maxGradNorm: 0 }, { targetEpsilon: -1 }, { delta: 1 },
    { physicalBatchSize: 0 }, { warmupSteps: 100 }, { minLr: 1 }, { rowCount: 0 },
  ] as Partial<TrainConfig>[]) {
    assert.throws(() => planRun({ ...base, ...bad }), TrainConfigError, JSON.stringify(bad));
  }
  assert.equal(planRun({ ...base, targetEpsilon: 'unlimited', maxGradNorm: 0 }).plannedEpsilon, Infinity);
});

void test('a cancelled run stops after the current step with a checkpoint', async () => {
  const model = new SoftmaxRegression({ rowCount: 100, features: 3, classes: 2 });
  const controller = new AbortController();
  const checkpoints: number[] = [];
  const result = await train(
    { config: { rowCount: 100, targetEpsilon: 'unlimited', batchSize: 10, epochs: 2, maxGradNorm: 1, lr: 0.1 }, model, initialParams: model.initialParams(), runKey, signal: controller.signal },
    { onProgress: (e) => { if (e.step === 3) controller.abort(); }, onCheckpoint: (c) => { checkpoints.push(c.step); } },
  );
  assert.equal(result.status, 'cancelled');
  assert.equal(result.step, 3);
  assert.deepEqual(checkpoints, [3]);
});
