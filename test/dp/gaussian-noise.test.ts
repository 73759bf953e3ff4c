// The Gaussian noise: right moments over 10⁷ draws, right shape (KS and tail frequencies, which
// exercise the ziggurat's wedge and tail branches), reproducible per (key, step), and
// uncorrelated across steps and within a stream.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KeystreamWords, NOISE_CHUNK, RunKey, fillGaussian, nextStandardNormal, noiseWords, privatizeGradientSum } from '../../engine/dp/index.ts';
import { normalCdf, normalTwoSidedTail } from './normal-cdf.ts';

const key = new RunKey(new Uint8Array(32).fill(7));

function moments(values: Float32Array | Float64Array): { mean: number; std: number } {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i];
  const mean = sum / values.length;
  let squares = 0;
  for (let i = 0; i < values.length; i++) squares += (values[i] - mean) ** 2;
  return { mean, std: Math.sqrt(squares / values.length) };
}

function correlation(a: Float32Array, b: Float32Array): number {
  const ma = moments(a);
  const mb = moments(b);
  let cross = 0;
  for (let i = 0; i < a.length; i++) cross += (a[i] - ma.mean) * (b[i] - mb.mean);
  return cross / a.length / (ma.std * mb.std);
}

void test('10⁷ draws: mean and standard deviation within 0.5 % of σ, tails at their normal frequencies', () => {
  const sigma = 2.5;
  const draws = new Float32Array(10_000_000);
  fillGaussian(noiseWords(key, 0), draws, sigma);
  const { mean, std } = moments(draws);
  assert.ok(Math.abs(mean) < 0.005 * sigma, `mean ${mean}`);
  assert.ok(Math.abs(std / sigma - 1) < 0.005, `std ${std}`);
  // Beyond 2σ: the wedges; beyond 3.654σ: the tail sampler; beyond 4.5σ: deep tail.
  for (const threshold of [1, 2, 3, 3.6541528853610088, 4.5]) {
    let count = 0;
    for (let i = 0; i < draws.length; i++) if (Math.abs(draws[i]) > threshold * sigma) count++;
    const expected = draws.length * normalTwoSidedTail(threshold);
    assert.ok(Math.abs(count - expected) < 5 * Math.sqrt(expected) + 1, `P(|z|>${threshold}): ${count} vs ${expected.toFixed(1)}`);
  }
  // Pearson χ² over 200 equal-width bins on [−5σ, 5σ] (+ two outer bins): df = 201, so a
  // correct sampler stays below 300 except with probability ~1e-5.
  const bins = 200;
  const counts = new Float64Array(bins + 2);
  for (let i = 0; i < draws.length; i++) {
    const position = Math.floor(((draws[i] / sigma + 5) / 10) * bins);
    counts[position < 0 ? bins : position >= bins ? bins + 1 : position]++;
  }
  let chiSquare = 0;
  for (let b = 0; b < bins + 2; b++) {
    const probability = b < bins ? normalCdf(-5 + ((b + 1) * 10) / bins) - normalCdf(-5 + (b * 10) / bins) : normalCdf(-5);
    const expected = probability * draws.length;
    chiSquare += (counts[b] - expected) ** 2 / expected;
  }
  assert.ok(chiSquare < 300, `χ² ${chiSquare.toFixed(1)} over ${bins + 2} bins`);
});

void test('Kolmogorov–Smirnov against the normal CDF', () => {
  const n = 200_000;
  const draws = new Float64Array(n);
  fillGaussian(noiseWords(key, 1), draws, 1);
  draws.sort();
  let d = 0;
  for (let i = 0; i < n; i++) {
    const cdf = normalCdf(draws[i]);
    d = Math.max(d, Math.abs(cdf - i / n), Math.abs((i + 1) / n - cdf));
  }
  // Critical value at α = 0.001 is 1.95/√n.
  assert.ok(d < 1.95 / Math.sqrt(n), `KS statistic ${d}`);
});

void test('no correlation across steps nor between neighbouring draws', () => {
  const n = 1_000_000;
  const bound = 5 / Math.sqrt(n);
  const noiseAt = (step: number): Float32Array => {
    const buffer = new Float32Array(n);
    privatizeGradientSum(key, step, [buffer], 1, 1);
    return buffer;
  };
  const step3 = noiseAt(3);
  const step4 = noiseAt(4);
  assert.ok(Math.abs(correlation(step3, step4)) < bound, 'steps 3 and 4');
  assert.ok(Math.abs(correlation(step3, noiseAt(1003))) < bound, 'steps 3 and 1003');
  assert.ok(Math.abs(correlation(step3.subarray(1), step3.subarray(0, n - 1))) < bound, 'lag 1 within a step');
  const otherKey = new Float32Array(n);
  privatizeGradientSum(new RunKey(new Uint8Array(32).fill(8)), 3, [otherKey], 1, 1);
  assert.ok(Math.abs(correlation(step3, otherKey)) < bound, 'another key');
});

void test('noise is a pure function of (key, step): same bytes again, other bytes elsewhere', () => {
  const draw = (runKey: RunKey, step: number): Buffer => {
    const buffers = [new Float32Array(1000), new Float32Array(37)];
    privatizeGradientSum(runKey, step, buffers, 0.7, 3);
    return Buffer.concat(buffers.map((b) => Buffer.from(b.buffer)));
  };
  assert.deepEqual(draw(key, 5), draw(key, 5));
  assert.notDeepEqual(draw(key, 5), draw(key, 6));
  assert.notDeepEqual(draw(key, 5), draw(RunKey.generate(), 5));
});

void test('privatizeGradientSum adds N(0, (σC)²) to the sum and divides by the expected batch size', () => {
  const n = 2_000_000;
  const sum = new Float32Array(n).fill(12);
  const noiseStd = 1.3 * 0.8; // σ · C
  const expectedBatch = 40;
  privatizeGradientSum(key, 9, [sum.subarray(0, n / 2), sum.subarray(n / 2)], noiseStd, expectedBatch);
  const { mean, std } = moments(sum);
  assert.ok(Math.abs(mean - 12 / expectedBatch) < 0.005 * (noiseStd / expectedBatch), `mean ${mean}`);
  assert.ok(Math.abs(std / (noiseStd / expectedBatch) - 1) < 0.005, `std ${std}`);
  assert.throws(() => privatizeGradientSum(key, 0, [sum], -1, 1), RangeError);
  assert.throws(() => privatizeGradientSum(key, 0, [sum], 1, 0), RangeError);
});

void test('the single-draw path samples the same distribution', () => {
  const words = noiseWords(key, 11);
  const draws = new Float64Array(400_000);
  for (let i = 0; i < draws.length; i++) draws[i] = nextStandardNormal(words);
  const { mean, std } = moments(draws);
  assert.ok(Math.abs(mean) < 0.01 && Math.abs(std - 1) < 0.01, `mean ${mean} std ${std}`);
});

void test('a zero-length or zero-std request leaves things as they should be', () => {
  const zeros = new Float32Array(10);
  fillGaussian(new KeystreamWords(new Uint8Array(32)), zeros, 0);
  assert.ok(zeros.every((x) => x === 0));
  const target = new Float32Array([2, 4]);
  privatizeGradientSum(key, 0, [target, new Float32Array(0)], 0, 2);
  assert.deepEqual([...target], [1, 2]);
});

void test('noise depends on the flat parameter position only: chunk streams, not buffer boundaries', () => {
  const total = NOISE_CHUNK + 5000;
  const whole = new Float32Array(total);
  privatizeGradientSum(key, 2, [whole], 1, 1);
  const parts = [new Float32Array(17), new Float32Array(NOISE_CHUNK - 20), new Float32Array(total - NOISE_CHUNK + 3)];
  privatizeGradientSum(key, 2, parts, 1, 1);
  const joined = new Float32Array(total);
  let offset = 0;
  for (const part of parts) {
    joined.set(part, offset);
    offset += part.length;
  }
  assert.ok(Buffer.from(joined.buffer).equals(Buffer.from(whole.buffer)));
  // Chunk 1 starts its own stream (nonce 1), so it can be computed on its own, e.g. by another thread.
  const chunkOne = new Float32Array(5000);
  fillGaussian(noiseWords(key, 2, 1), chunkOne, 1);
  assert.deepEqual(whole.subarray(NOISE_CHUNK), chunkOne);
  const chunkZero = new Float32Array(100);
  fillGaussian(noiseWords(key, 2, 0), chunkZero, 1);
  assert.deepEqual(whole.subarray(0, 100), chunkZero);
});
