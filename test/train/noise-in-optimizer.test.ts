// The trainer's DP step with a prefetcher: the noise drawn ahead by the worker and added by AdamW
// as it reads the gradient sum, with the next step requested while this one is read, gives the
// parameters that privatizeGradientSum then AdamW give, bit for bit, step after step, through a
// ring smaller than the noise.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NOISE_CHUNK, NoisePrefetcher, RunKey, privatizeGradientSum } from '../../engine/dp/index.ts';
import { createOptimizer } from '../../engine/optim/index.ts';

const key = new RunKey(new Uint8Array(32).fill(41));
const sizes = [NOISE_CHUNK + 3, 11, NOISE_CHUNK / 2 - 9];
const total = sizes.reduce((a, b) => a + b, 0);
const gradients = (step: number): Float32Array[] => sizes.map((n, k) => Float32Array.from({ length: n }, (_, i) => Math.cos(i * 0.11 + 7 * k + step)));
const bits = (xs: readonly Float32Array[]): Buffer => Buffer.concat(xs.map((x) => Buffer.from(x.buffer, x.byteOffset, x.byteLength)));

void test('prefetched noise added by AdamW equals privatizeGradientSum then AdamW, with the next step drawn while one is read', async () => {
  const config = { kind: 'adamw' as const, weightDecay: 0.05 };
  const expectedOptimizer = createOptimizer(config, sizes);
  const actualOptimizer = createOptimizer(config, sizes);
  const expected = sizes.map((n) => new Float32Array(n).fill(0.25));
  const actual = expected.map((p) => p.slice());
  const prefetcher = new NoisePrefetcher(key, total, 0.8, { ringChunks: 1 });
  try {
    prefetcher.request(0);
    for (const step of [0, 1, 2]) {
      const g = gradients(step);
      await privatizeGradientSum(key, step, g, 0.8, 6);
      await expectedOptimizer.step(expected, g, 2e-3);
      const noise = prefetcher.noise(step, 6);
      prefetcher.request(step + 1);
      await actualOptimizer.step(actual, gradients(step), 2e-3, noise);
      assert.ok(bits(actual).equals(bits(expected)), `step ${step}: parameters`);
    }
  } finally {
    await prefetcher.close();
  }
});
