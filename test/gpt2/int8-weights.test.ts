// The draft's int8 matrices: one scale per output column (per token for the embedding), every
// value within half a step of the float32 it stands for (ties and float32 scales may add a hair),
// the largest magnitude at ±127.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { quantizeColumns, quantizeEmbeddingTransposed } from '../../engine/gpt2/int8-weights.ts';

void test('columns are quantized each on its own scale, within half a step', () => {
  // 3 × 2: column 0 spans ±2, column 1 is tiny, and a zero column would keep scale 1.
  const m = Float32Array.from([2, 0.001, -1, -0.002, 0.5, 0.0005]);
  const q = quantizeColumns(m, 3, 2);
  assert.deepEqual([...q.scales].map((s) => +s.toPrecision(6)), [+(2 / 127).toPrecision(6), +(0.002 / 127).toPrecision(6)]);
  assert.deepEqual([...q.data], [127, 64, -64, -127, 32, 32]);
  for (let i = 0; i < m.length; i++) assert.ok(Math.abs(q.data[i] * q.scales[i % 2] - m[i]) <= (q.scales[i % 2] / 2) * (1 + 1e-4), `value ${i}`);
  assert.deepEqual([...quantizeColumns(new Float32Array(4), 2, 2).scales], [1, 1]);
});

void test('the embedding is transposed and quantized per token', () => {
  // V = 2 tokens of C = 3.
  const wte = Float32Array.from([1, -0.5, 0.25, 0.01, 0.02, -0.04]);
  const q = quantizeEmbeddingTransposed(wte, 2, 3);
  assert.deepEqual(q.shape, [3, 2]);
  for (let v = 0; v < 2; v++) {
    for (let c = 0; c < 3; c++) assert.ok(Math.abs(q.data[c * 2 + v] * q.scales[v] - wte[v * 3 + c]) <= (q.scales[v] / 2) * (1 + 1e-4), `token ${v}, column ${c}`);
  }
  assert.equal(q.data[0], 127);
  assert.equal(q.data[2 * 2 + 1], -127);
  assert.throws(() => quantizeEmbeddingTransposed(wte, 3, 3), RangeError);
});
