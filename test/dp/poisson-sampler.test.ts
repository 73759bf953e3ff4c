// Poisson sampling: each row independently with probability q, reproducible per (key, step).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PoissonSampler, RunKey, poissonSample, samplerStream } from '../../engine/dp/index.ts';

const key = new RunKey(new Uint8Array(32).fill(3));

void test('inclusion frequencies, batch-size variance and overlap between steps match independent Bernoulli(q) rows', () => {
  const rowCount = 1000;
  const q = 0.05;
  const steps = 800;
  const sampler = new PoissonSampler(key, rowCount, q);
  const perRow = new Float64Array(rowCount);
  const sizes: number[] = [];
  let overlap = 0;
  let previous = new Set<number>();
  for (let step = 0; step < steps; step++) {
    const batch = sampler.sampleStep(step);
    sizes.push(batch.length);
    for (const index of batch) perRow[index]++;
    overlap += batch.filter((i) => previous.has(i)).length;
    previous = new Set(batch);
  }
  const meanSize = sizes.reduce((a, b) => a + b, 0) / steps;
  const varSize = sizes.reduce((a, b) => a + (b - meanSize) ** 2, 0) / (steps - 1);
  const expectedMean = rowCount * q;
  const expectedVar = rowCount * q * (1 - q);
  assert.ok(Math.abs(meanSize - expectedMean) < 5 * Math.sqrt(expectedVar / steps), `mean batch ${meanSize}`);
  assert.ok(Math.abs(varSize / expectedVar - 1) < 0.25, `batch-size variance ${varSize} vs ${expectedVar}`);
  // Per-row counts are Binomial(steps, q): a χ² over the rows checks no row is favoured.
  const perRowExpected = steps * q;
  const chiSquare = perRow.reduce((sum, count) => sum + (count - perRowExpected) ** 2 / (perRowExpected * (1 - q)), 0);
  assert.ok(Math.abs(chiSquare - rowCount) < 5 * Math.sqrt(2 * rowCount), `row χ² ${chiSquare}`);
  // Consecutive steps are independent: expected overlap q²N per pair.
  const expectedOverlap = (steps - 1) * q * q * rowCount;
  assert.ok(Math.abs(overlap - expectedOverlap) < 5 * Math.sqrt(expectedOverlap), `overlap ${overlap} vs ${expectedOverlap}`);
});

void test('the first selected index is geometric: P(first ≥ k) = (1 − q)^k', () => {
  const q = 0.02;
  const trials = 4000;
  let atLeast50 = 0;
  for (let t = 0; t < trials; t++) {
    const batch = poissonSample(samplerStream(key, 10_000 + t), 10_000, q);
    if (batch.length === 0 || batch[0] >= 50) atLeast50++;
  }
  const p = (1 - q) ** 50;
  assert.ok(Math.abs(atLeast50 - trials * p) < 5 * Math.sqrt(trials * p * (1 - p)), `${atLeast50} vs ${trials * p}`);
});

void test('samples are sorted, distinct, in range, and reproducible per step', () => {
  const sampler = new PoissonSampler(key, 5000, 0.3);
  const batch = sampler.sampleStep(7);
  for (let i = 1; i < batch.length; i++) assert.ok(batch[i] > batch[i - 1]);
  assert.ok(batch[0] >= 0 && batch[batch.length - 1] < 5000);
  assert.deepEqual(sampler.sampleStep(7), batch);
  assert.notDeepEqual(sampler.sampleStep(8), batch);
  assert.notDeepEqual(new PoissonSampler(RunKey.generate(), 5000, 0.3).sampleStep(7), batch);
  assert.deepEqual(sampler.stateAt(8), { kind: 'poisson', rowCount: 5000, samplingRate: 0.3, nextStep: 8 });
});

void test('edge rates: q = 0 gives empty batches, q = 1 every row, tiny q on many rows is cheap', () => {
  assert.equal(new PoissonSampler(key, 100, 0).sampleStep(0).length, 0);
  assert.deepEqual([...new PoissonSampler(key, 100, 1).sampleStep(0)], Array.from({ length: 100 }, (_, i) => i));
  assert.equal(new PoissonSampler(key, 0, 0.5).sampleStep(0).length, 0);
  const started = performance.now();
  let total = 0;
  for (let step = 0; step < 100; step++) total += new PoissonSampler(key, 50_000_000, 2e-6).sampleStep(step).length;
  assert.ok(total > 50 && total < 200 * 100, `total ${total}`);
  assert.ok(performance.now() - started < 2000, 'geometric skips should make this O(qN)');
  assert.throws(() => poissonSample(samplerStream(key, 0), 10, 1.5), RangeError);
  assert.throws(() => poissonSample(samplerStream(key, 0), 10, Number.NaN), RangeError);
  assert.throws(() => poissonSample(samplerStream(key, 0), -1, 0.5), RangeError);
});

void test('small batches are often empty, and empty is returned as such', () => {
  const sampler = new PoissonSampler(key, 100, 0.01);
  let empty = 0;
  for (let step = 0; step < 500; step++) if (sampler.sampleStep(step).length === 0) empty++;
  const p = 0.99 ** 100;
  assert.ok(Math.abs(empty - 500 * p) < 5 * Math.sqrt(500 * p * (1 - p)), `empty ${empty}`);
});
