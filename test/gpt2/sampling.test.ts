// Token choice: greedy, temperature, top-k and top-p behave as transformers' warpers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SecureStream } from '../../engine/random/secure-stream.ts';
import { argmax, sampleToken } from '../../engine/gpt2/sampling.ts';

const logits = Float32Array.from([1, 3, 2, 0.5, 3, -1]); // two tied maxima at 1 and 4
const softmax = (xs: number[]) => {
  const e = xs.map(Math.exp);
  const s = e.reduce((a, b) => a + b);
  return e.map((v) => v / s);
};

function frequencies(options: Parameters<typeof sampleToken>[1], n = 20000): number[] {
  const rng = SecureStream.fromSeed('sampling', 'test');
  const counts = new Array<number>(logits.length).fill(0);
  for (let i = 0; i < n; i++) counts[sampleToken(logits, options, rng)]++;
  return counts.map((c) => c / n);
}

void test('temperature 0 is argmax, first index on ties', () => {
  assert.equal(argmax(logits), 1);
  assert.equal(sampleToken(logits, { temperature: 0 }, SecureStream.fromSeed(0, 'test')), 1);
});

void test('temperature 1 samples the softmax; temperature 2 flattens it', () => {
  const p1 = softmax(Array.from(logits));
  frequencies({ temperature: 1 }).forEach((f, i) => assert.ok(Math.abs(f - p1[i]) < 0.015, `token ${i}: ${f} vs ${p1[i]}`));
  const p2 = softmax(Array.from(logits, (v) => v / 2));
  frequencies({ temperature: 2 }).forEach((f, i) => assert.ok(Math.abs(f - p2[i]) < 0.015, `token ${i}: ${f} vs ${p2[i]}`));
});

void test('top-k keeps the k best (and ties with the k-th)', () => {
  const f = frequencies({ temperature: 1, topK: 3 }, 5000);
  assert.deepEqual(f.map((v) => v > 0), [false, true, true, false, true, false]);
  const tied = frequencies({ temperature: 1, topK: 1 }, 2000);
  assert.deepEqual(tied.map((v) => v > 0), [false, true, false, false, true, false]);
});

void test('top-p keeps the most likely tokens until their mass reaches p', () => {
  const p = softmax(Array.from(logits));
  // The two maxima hold 2·p[1] ≈ 0.77 of the mass: p = 0.6 keeps them only, p = 0.8 adds token 2.
  assert.ok(2 * p[1] > 0.6 && 2 * p[1] < 0.8 && 2 * p[1] + p[2] > 0.8);
  assert.deepEqual(frequencies({ temperature: 1, topP: 0.6 }, 3000).map((v) => v > 0), [false, true, false, false, true, false]);
  assert.deepEqual(frequencies({ temperature: 1, topP: 0.8 }, 3000).map((v) => v > 0), [false, true, true, false, true, false]);
  const renormalised = frequencies({ temperature: 1, topP: 0.6 });
  assert.ok(Math.abs(renormalised[1] - 0.5) < 0.02);
});
