// Laplace noise (engine/dp/laplace.ts): the distribution has the scale it claims, from a CSPRNG,
// and noisy counts are rounded and never negative.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { laplaceNoise, noisyCount } from '../../engine/dp/index.ts';
import { SecureStream } from '../../engine/random/secure-stream.ts';

test('Laplace draws have mean 0, mean |x| = b and P(|x| > 3b) = e⁻³', () => {
  const rng = SecureStream.fromSeed(7, 'laplace-test');
  const b = 2.5;
  const n = 20_000;
  const xs = Array.from({ length: n }, () => laplaceNoise(rng, b));
  const mean = xs.reduce((a, x) => a + x, 0) / n;
  const meanAbs = xs.reduce((a, x) => a + Math.abs(x), 0) / n;
  const tail = xs.filter((x) => Math.abs(x) > 3 * b).length / n;
  // Standard errors: mean √2·b/√n ≈ 0.025, mean|x| b/√n ≈ 0.018, tail ≈ 0.0016; 5σ bounds.
  assert.ok(Math.abs(mean) < 0.13, `mean ${mean}`);
  assert.ok(Math.abs(meanAbs - b) < 0.09, `mean |x| ${meanAbs}`);
  assert.ok(Math.abs(tail - Math.exp(-3)) < 0.008, `tail ${tail}`);
  assert.ok(xs.every(Number.isFinite));
  assert.throws(() => laplaceNoise(rng, 0), /positive finite/);
});

test('noisy counts are integers ≥ 0 centred on the count', () => {
  const rng = SecureStream.fromSeed(8, 'count-test');
  const draws = Array.from({ length: 5000 }, () => noisyCount(rng, 100, 0.5));
  assert.ok(draws.every((d) => Number.isInteger(d) && d >= 0));
  const mean = draws.reduce((a, x) => a + x, 0) / draws.length;
  assert.ok(Math.abs(mean - 100) < 0.3, `mean ${mean}`);
  assert.ok(new Set(draws).size > 10, 'noise at ε = 0.5 spreads the count');
  assert.ok(Array.from({ length: 200 }, () => noisyCount(rng, 0, 0.5)).every((d) => d >= 0), 'clipped at 0');
  assert.equal(noisyCount(rng, 42, 1e9), 42);
});
