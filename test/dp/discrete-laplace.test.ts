// Discrete Laplace noise: integer draws whose distribution matches P(k) ∝ exp(−|k|/scale), and the
// 95% interval the data report quotes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { discreteLaplace, discreteLaplace95, releaseInteger } from '../../engine/dp/index.ts';
import { SecureStream } from '../../engine/random/secure-stream.ts';

test('discrete Laplace draws are integers with the right frequencies, mean and variance', () => {
  const rng = SecureStream.fromSeed('discrete-laplace', 'test');
  const scale = 2;
  const n = 200_000;
  const counts = new Map<number, number>();
  let sum = 0;
  let sumSq = 0;
  for (let i = 0; i < n; i++) {
    const k = discreteLaplace(rng, scale);
    assert.ok(Number.isInteger(k));
    counts.set(k, (counts.get(k) ?? 0) + 1);
    sum += k;
    sumSq += k * k;
  }
  const r = Math.exp(-1 / scale);
  const p = (k: number) => ((1 - r) / (1 + r)) * r ** Math.abs(k);
  for (const k of [-3, -1, 0, 1, 2, 5]) {
    const expected = n * p(k);
    // 5 standard deviations of a binomial count.
    assert.ok(Math.abs((counts.get(k) ?? 0) - expected) < 5 * Math.sqrt(expected), `k=${k}: ${counts.get(k)} vs ${expected.toFixed(0)}`);
  }
  const variance = (2 * r) / (1 - r) ** 2;
  assert.ok(Math.abs(sum / n) < 5 * Math.sqrt(variance / n), `mean ${sum / n}`);
  assert.ok(Math.abs(sumSq / n - variance) / variance < 0.03, `variance ${sumSq / n} vs ${variance}`);
});

test('the quoted 95% interval covers 95% of releases, and releases are unclamped integers', () => {
  const rng = SecureStream.fromSeed('discrete-laplace', 'interval');
  const epsilon = 0.05;
  const half = discreteLaplace95(2 / epsilon);
  let inside = 0;
  let negative = 0;
  const n = 20_000;
  for (let i = 0; i < n; i++) {
    const released = releaseInteger(rng, 3, epsilon, 2);
    if (Math.abs(released - 3) <= half) inside++;
    if (released < 0) negative++;
  }
  assert.ok(inside / n >= 0.94 && inside / n <= 0.965, `coverage ${inside / n} of ±${half}`);
  assert.ok(negative > 0, 'small counts are not clamped at 0 (that would bias them up)');
  assert.throws(() => releaseInteger(rng, 0.5, 1), RangeError);
});
