// The prefetched noise (drawn by a worker thread ahead of the gradients) gives exactly the bytes
// of privatizeGradientSum, step after step, across buffers and chunks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NOISE_CHUNK, NoisePrefetcher, RunKey, privatizeGradientSum } from '../../engine/dp/index.ts';

void test('prefetched noise equals privatizeGradientSum bit for bit, step after step', async () => {
  const key = new RunKey(new Uint8Array(32).fill(5));
  const sizes = [3, NOISE_CHUNK - 1, 1001];
  const gradients = (step: number) => sizes.map((n, k) => Float32Array.from({ length: n }, (_, i) => Math.cos(i + 31 * k + step)));
  const prefetcher = new NoisePrefetcher(key, sizes.reduce((a, b) => a + b, 0), 0.75);
  try {
    prefetcher.request(4);
    for (const step of [4, 5, 9]) {
      const expected = gradients(step);
      await privatizeGradientSum(key, step, expected, 0.75, 12.5);
      const actual = gradients(step);
      await prefetcher.privatize(step, actual, 12.5); // step 4 was requested ahead, 5 and 9 on demand
      actual.forEach((buffer, k) => assert.ok(Buffer.from(buffer.buffer).equals(Buffer.from(expected[k].buffer)), `step ${step}, buffer ${k}`));
    }
    prefetcher.request(10);
    prefetcher.request(11); // the next step may wait behind the one being taken
    assert.throws(() => prefetcher.request(12), /not consumed/);
  } finally {
    await prefetcher.close();
  }
});
