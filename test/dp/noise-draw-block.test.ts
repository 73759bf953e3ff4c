// The prefetcher's drawBlock against noiseBlock on a zero target at scale 1, which it stands in
// for: the same float32 bits and the same rejected lanes, for keystream words built to reach every
// layer, both signs, u = 0 (where x and 0 + x differ: −0 against +0) and the largest u.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { ZIGGURAT_ACCEPT, ZIGGURAT_X } from '../../engine/dp/index.ts';
import { NOISE_KERNEL_LAYOUT, type NoiseExports } from '../../engine/dp/noise-kernel.ts';
import { instantiateWat } from '../../engine/random/wat.ts';

const { tableX: TABLE_X, tableAccept: TABLE_ACCEPT, words: WORDS, target: TARGET, rejected: REJECTED } = NOISE_KERNEL_LAYOUT;

void test('drawBlock gives noiseBlock\'s bits for a zero target at scale 1, −0 included, and rejects the same lanes', async () => {
  const kernel = await instantiateWat<NoiseExports>(new URL('../../engine/dp/noise-kernel.wat', import.meta.url));
  const buffer = kernel.memory.buffer;
  new Float64Array(buffer, TABLE_X, ZIGGURAT_X.length).set(ZIGGURAT_X);
  new Float64Array(buffer, TABLE_ACCEPT, ZIGGURAT_ACCEPT.length).set(ZIGGURAT_ACCEPT);
  const n = 8191; // odd: the last pair's second lane is past the end
  const words = new Uint32Array(buffer, WORDS, 2 * n);
  words.set(new Uint32Array(randomBytes(8 * n).buffer));
  // Word 2j: layer in bits 0–7, sign in bit 8, the uniform's low bits from 12; word 2j + 1: its high bits.
  for (let layer = 0; layer < 256; layer++) {
    for (const [sign, high] of [[0, 0], [1, 0], [0, 0xffffffff], [1, 0xffffffff]]) {
      const j = 4 * layer + 2 * sign + (high ? 1 : 0);
      words[2 * j] = layer | (sign << 8) | (high ? 0xfffff000 : 0);
      words[2 * j + 1] = high;
    }
  }
  const target = new Float32Array(buffer, TARGET, n);
  const bits = new Uint32Array(buffer, TARGET, n);
  const rejected = new Int32Array(buffer, REJECTED, n);

  target.fill(0);
  const expectedCount = kernel.noiseBlock(n, 0.83, 1);
  const expectedBits = bits.slice();
  const expectedRejected = rejected.slice(0, expectedCount);
  target.fill(Number.NaN); // drawBlock must not read it
  const count = kernel.drawBlock(n, 0.83);

  assert.deepEqual(rejected.slice(0, count), expectedRejected);
  const skip = new Set(expectedRejected);
  let negativeZero = 0;
  for (let j = 0; j < n; j++) {
    if (skip.has(j)) continue; // finished by the caller in both
    assert.equal(bits[j], expectedBits[j], `value ${j}`);
    if (Object.is(target[j], -0)) negativeZero++;
  }
  assert.equal(negativeZero, 0);
  assert.ok(expectedCount > 0 && expectedCount < n / 10, `${expectedCount} rejected`);
});
