// The Gaussian noise: right moments over 10⁷ draws, right shape (KS and tail frequencies, which
// exercise the ziggurat's wedge and tail branches), reproducible per (key, step), uncorrelated
// across steps and within a stream, and the vectorised kernel equal bit for bit to a plain
// scalar reading of the algorithm (engine/dp/noise.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  KeystreamWords, NOISE_CHUNK, RunKey, ZIGGURAT_ACCEPT, ZIGGURAT_X, deriveStepKey, fillStepNoise, firstDraw, noiseNonce, privatizeGradientSum, slowPath,
} from '../../engine/dp/index.ts';
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

void test('10⁷ draws: mean and standard deviation within 0.5 % of σ, tails at their normal frequencies', async () => {
  const sigma = 2.5;
  const draws = new Float32Array(10_000_000);
  await fillStepNoise(key, 0, draws, sigma);
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

void test('Kolmogorov–Smirnov against the normal CDF', async () => {
  const n = 200_000;
  const single = new Float32Array(n);
  await fillStepNoise(key, 1, single, 1);
  const draws = Float64Array.from(single).sort();
  let d = 0;
  for (let i = 0; i < n; i++) {
    const cdf = normalCdf(draws[i]);
    d = Math.max(d, Math.abs(cdf - i / n), Math.abs((i + 1) / n - cdf));
  }
  // Critical value at α = 0.001 is 1.95/√n.
  assert.ok(d < 1.95 / Math.sqrt(n), `KS statistic ${d}`);
});

void test('no correlation across steps nor between neighbouring draws', async () => {
  const n = 1_000_000;
  const bound = 5 / Math.sqrt(n);
  const noiseAt = async (step: number): Promise<Float32Array> => {
    const buffer = new Float32Array(n);
    await privatizeGradientSum(key, step, [buffer], 1, 1);
    return buffer;
  };
  const step3 = await noiseAt(3);
  const step4 = await noiseAt(4);
  assert.ok(Math.abs(correlation(step3, step4)) < bound, 'steps 3 and 4');
  assert.ok(Math.abs(correlation(step3, await noiseAt(1003))) < bound, 'steps 3 and 1003');
  assert.ok(Math.abs(correlation(step3.subarray(1), step3.subarray(0, n - 1))) < bound, 'lag 1 within a step');
  // The two values of a SIMD pair come from neighbouring words: no cross-talk between them either.
  const even = step3.filter((_, i) => i % 2 === 0);
  const odd = step3.filter((_, i) => i % 2 === 1);
  assert.ok(Math.abs(correlation(even, odd)) < 5 / Math.sqrt(n / 2), 'the two lanes of a pair');
  const otherKey = new Float32Array(n);
  await privatizeGradientSum(new RunKey(new Uint8Array(32).fill(8)), 3, [otherKey], 1, 1);
  assert.ok(Math.abs(correlation(step3, otherKey)) < bound, 'another key');
});

void test('noise is a pure function of (key, step): same bytes again, other bytes elsewhere', async () => {
  const draw = async (runKey: RunKey, step: number): Promise<Buffer> => {
    const buffers = [new Float32Array(1000), new Float32Array(37)];
    await privatizeGradientSum(runKey, step, buffers, 0.7, 3);
    return Buffer.concat(buffers.map((b) => Buffer.from(b.buffer)));
  };
  assert.deepEqual(await draw(key, 5), await draw(key, 5));
  assert.notDeepEqual(await draw(key, 5), await draw(key, 6));
  assert.notDeepEqual(await draw(key, 5), await draw(RunKey.generate(), 5));
});

void test('privatizeGradientSum adds N(0, (σC)²) to the sum and divides by the expected batch size', async () => {
  const n = 2_000_000;
  const sum = new Float32Array(n).fill(12);
  const noiseStd = 1.3 * 0.8; // σ · C
  const expectedBatch = 40;
  await privatizeGradientSum(key, 9, [sum.subarray(0, n / 2), sum.subarray(n / 2)], noiseStd, expectedBatch);
  const { mean, std } = moments(sum);
  assert.ok(Math.abs(mean - 12 / expectedBatch) < 0.005 * (noiseStd / expectedBatch), `mean ${mean}`);
  assert.ok(Math.abs(std / (noiseStd / expectedBatch) - 1) < 0.005, `std ${std}`);
  await assert.rejects(privatizeGradientSum(key, 0, [sum], -1, 1), RangeError);
  await assert.rejects(privatizeGradientSum(key, 0, [sum], 1, 0), RangeError);
});

void test('a zero-length or zero-std request leaves things as they should be', async () => {
  const zeros = new Float32Array(10).fill(3);
  await fillStepNoise(key, 0, zeros, 0);
  assert.ok(zeros.every((x) => x === 0));
  const target = new Float32Array([2, 4]);
  await privatizeGradientSum(key, 0, [target, new Float32Array(0)], 0, 2);
  assert.deepEqual([...target], [1, 2]);
});

void test('noise depends on the flat parameter position only, not on buffer boundaries', async () => {
  const total = NOISE_CHUNK + 5000;
  const whole = new Float32Array(total);
  await privatizeGradientSum(key, 2, [whole], 1, 1);
  const parts = [new Float32Array(17), new Float32Array(NOISE_CHUNK - 20), new Float32Array(total - NOISE_CHUNK + 3)];
  await privatizeGradientSum(key, 2, parts, 1, 1);
  const joined = new Float32Array(total);
  let offset = 0;
  for (const part of parts) {
    joined.set(part, offset);
    offset += part.length;
  }
  assert.ok(Buffer.from(joined.buffer).equals(Buffer.from(whole.buffer)));
});

// The algorithm of engine/dp/noise.ts read plainly, one value at a time, from the chunks' two
// keystreams: what the vectorised kernel, its blocks and its rejected-value list must reproduce.
function scalarReference(runKey: RunKey, step: number, gradients: Float32Array, std: number, scale: number): { out: Float32Array; slowCount: number } {
  const stepKey = deriveStepKey(runKey, 'noise', step);
  const out = new Float32Array(gradients.length);
  let slowCount = 0;
  let main: KeystreamWords | undefined;
  let overflow: KeystreamWords | undefined;
  for (let i = 0; i < gradients.length; i++) {
    if (i % NOISE_CHUNK === 0) {
      main = new KeystreamWords(stepKey, noiseNonce(i / NOISE_CHUNK, 'main'));
      overflow = new KeystreamWords(stepKey, noiseNonce(i / NOISE_CHUNK, 'overflow'));
    }
    const { layer, negative, u } = firstDraw(main!.nextUint32(), main!.nextUint32());
    let magnitude: number;
    if (u < ZIGGURAT_ACCEPT[layer]) {
      magnitude = u * ZIGGURAT_X[layer];
    } else {
      magnitude = slowPath(overflow!, layer, u);
      slowCount++;
    }
    out[i] = Math.fround((gradients[i] + Math.fround(std * (negative ? -magnitude : magnitude))) * scale);
  }
  return { out, slowCount };
}

void test('the vectorised kernel equals the scalar reading of the algorithm bit for bit, across chunks and buffers', async () => {
  const total = NOISE_CHUNK + 70_001; // two chunks; odd, so the last SIMD pair is half empty
  const gradients = new Float32Array(total);
  for (let i = 0; i < total; i++) gradients[i] = Math.sin(i) * 3; // arbitrary values of every sign and size
  const { out: expected, slowCount } = scalarReference(key, 12, gradients, 0.9, 1 / 37);
  // The slow path (wedges, tail, retries from the overflow stream) is taken about 1 % of the time.
  assert.ok(slowCount > 0.005 * total && slowCount < 0.02 * total, `slow path taken ${slowCount} times`);
  const buffers = [gradients.slice(0, 9), gradients.slice(9, 10_000), gradients.slice(10_000, NOISE_CHUNK + 3), gradients.slice(NOISE_CHUNK + 3)];
  await privatizeGradientSum(key, 12, buffers, 0.9, 37);
  const actual = new Float32Array(total);
  let offset = 0;
  for (const buffer of buffers) {
    actual.set(buffer, offset);
    offset += buffer.length;
  }
  let mismatches = 0;
  for (let i = 0; i < total; i++) if (!Object.is(actual[i], expected[i])) mismatches++;
  assert.equal(mismatches, 0, `${mismatches} of ${total} values differ from the scalar reference`);
});
