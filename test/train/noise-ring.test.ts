// The noise prefetcher draws through a ring of a few chunks, not a whole model's worth: with a
// ring smaller than the noise (the worker waits for the caller to consume), with the next step
// drawn into the slots the current one frees, across chunk and buffer boundaries, and when the
// caller asks for another step than the one drawn ahead, the sum is privatizeGradientSum's bit
// for bit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NOISE_CHUNK, NoisePrefetcher, RunKey, privatizeGradientSum } from '../../engine/dp/index.ts';

const key = new RunKey(new Uint8Array(32).fill(23));
// 2.5 chunks, cut across the chunk boundaries.
const sizes = [NOISE_CHUNK + 5, 7, NOISE_CHUNK - 100, NOISE_CHUNK / 2 + 88];
const total = sizes.reduce((a, b) => a + b, 0);
const gradients = (step: number): Float32Array[] => sizes.map((n, k) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37 + 13 * k + step)));

for (const ringChunks of [1, 2]) {
  void test(`a ring of ${ringChunks} chunk(s) for 3 chunks of noise gives privatizeGradientSum's bits, step after step`, async () => {
    const prefetcher = new NoisePrefetcher(key, total, 1.25, { ringChunks });
    try {
      prefetcher.request(7);
      // Step 8 waits behind 7: its chunks go into the ring's slots as 7's are taken.
      prefetcher.request(8);
      // The worker cannot run more than the ring ahead: step 7 waits here until it is consumed.
      await new Promise((resolve) => setTimeout(resolve, 200));
      assert.throws(() => prefetcher.request(9), /not consumed/);
      for (const step of [7, 8]) {
        const expected = gradients(step);
        await privatizeGradientSum(key, step, expected, 1.25, 3.5);
        const actual = gradients(step);
        await prefetcher.privatize(step, actual, 3.5); // both drawn ahead, 8 through the slots 7 freed
        actual.forEach((buffer, k) => assert.ok(Buffer.from(buffer.buffer).equals(Buffer.from(expected[k].buffer)), `step ${step}, buffer ${k}`));
      }
    } finally {
      await prefetcher.close();
    }
  });
}

void test('a step drawn ahead and not used is dropped for the one asked for; a wrong size is refused', async () => {
  const prefetcher = new NoisePrefetcher(key, total, 0.5, { ringChunks: 1 });
  try {
    prefetcher.request(3);
    const expected = gradients(4);
    await privatizeGradientSum(key, 4, expected, 0.5, 2);
    const actual = gradients(4);
    await prefetcher.privatize(4, actual, 2);
    actual.forEach((buffer, k) => assert.ok(Buffer.from(buffer.buffer).equals(Buffer.from(expected[k].buffer)), `buffer ${k}`));
    await assert.rejects(prefetcher.privatize(5, [new Float32Array(10)], 2), /made for/);
  } finally {
    await prefetcher.close();
  }
});
