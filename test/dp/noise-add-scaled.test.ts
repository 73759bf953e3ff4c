// NoiseKernel.addScaled, the vectorised form of the noise prefetcher's add-and-scale loop, against
// that loop: equal bit for bit on every length around the kernel's block and lane sizes, on
// values whose float64 sum is inexact and whose product under- and overflows float32.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NoiseKernel } from '../../engine/dp/noise-kernel.ts';

/** Float32 values of widely varying magnitude and sign (a fixed LCG, so the test is repeatable). */
function values(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = (s / 2 ** 31 - 1) * 2 ** ((s % 90) - 45);
  }
  return out;
}

function jsLoop(target: Float32Array, noise: Float32Array, scale: number): void {
  for (let i = 0; i < target.length; i++) target[i] = (target[i] + noise[i]) * scale;
}

void test('addScaled stores what the JS loop stores, bit for bit', async () => {
  const kernel = await NoiseKernel.load();
  for (const n of [0, 1, 3, 4, 5, 8191, 8192, 8193, 20_003]) {
    for (const scale of [1 / 8, 1 / 3, 1 / 12_345.5, 3e30]) {
      const noise = values(n + 7, n + 11);
      const expected = values(n, n + 1);
      jsLoop(expected, noise, scale);
      const actual = values(n, n + 1);
      kernel.addScaled(actual, noise, scale);
      assert.ok(Buffer.from(actual.buffer).equals(Buffer.from(expected.buffer)), `n=${n}, scale=${scale}`);
    }
  }
});

void test('addScaled changes the target and reads the noise at the same positions', async () => {
  const kernel = await NoiseKernel.load();
  const target = new Float32Array(9000);
  const noise = Float32Array.from({ length: 9000 }, (_, i) => i);
  kernel.addScaled(target, noise, 0.5);
  assert.deepEqual([target[0], target[1], target[8191], target[8192], target[8999]], [0, 0.5, 4095.5, 4096, 4499.5]);
});

void test('addScaled refuses a noise buffer shorter than the target', async () => {
  const kernel = await NoiseKernel.load();
  assert.throws(() => kernel.addScaled(new Float32Array(10), new Float32Array(9), 1), RangeError);
});
