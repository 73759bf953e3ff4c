// The draft's int8 matrices: one scale per output column (per token for the embedding), every
// value within half a step of the float32 it stands for (ties and float32 scales may add a hair),
// the largest magnitude at ±127, and the same values whether the rows come whole or in slices.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { emptyHead, quantizeEmbeddingRows, quantizeRows, scalesOf, trackColumnMagnitudes } from '../../engine/gpt2/int8-weights.ts';

/** A [K, N] matrix quantized per column from row slices of `rowsPerSlice`, as draft-weights.ts does. */
function quantizeColumns(m: Float32Array, K: number, N: number, rowsPerSlice = K) {
  const largest = new Float32Array(N);
  for (let k = 0; k < K; k += rowsPerSlice) trackColumnMagnitudes(largest, m.subarray(k * N, Math.min(K, k + rowsPerSlice) * N));
  const scales = scalesOf(largest);
  const data = new Int8Array(K * N);
  for (let k = 0; k < K; k += rowsPerSlice) quantizeRows(m.subarray(k * N, Math.min(K, k + rowsPerSlice) * N), scales, data.subarray(k * N, Math.min(K, k + rowsPerSlice) * N));
  return { data, scales };
}

void test('columns are quantized each on its own scale, within half a step, whole or in slices', () => {
  // 3 × 2: column 0 spans ±2, column 1 is tiny, and a zero column would keep scale 1.
  const m = Float32Array.from([2, 0.001, -1, -0.002, 0.5, 0.0005]);
  const q = quantizeColumns(m, 3, 2);
  assert.deepEqual([...q.scales].map((s) => +s.toPrecision(6)), [+(2 / 127).toPrecision(6), +(0.002 / 127).toPrecision(6)]);
  assert.deepEqual([...q.data], [127, 64, -64, -127, 32, 32]);
  for (let i = 0; i < m.length; i++) assert.ok(Math.abs(q.data[i] * q.scales[i % 2] - m[i]) <= (q.scales[i % 2] / 2) * (1 + 1e-4), `value ${i}`);
  assert.deepEqual([...quantizeColumns(new Float32Array(4), 2, 2).scales], [1, 1]);
  const sliced = quantizeColumns(m, 3, 2, 2);
  assert.deepEqual([...sliced.data], [...q.data]);
  assert.deepEqual([...sliced.scales], [...q.scales]);
});

void test('the embedding is transposed and quantized per token, whole or a slice of tokens at a time', () => {
  // V = 2 tokens of C = 3.
  const wte = Float32Array.from([1, -0.5, 0.25, 0.01, 0.02, -0.04]);
  const q = emptyHead(2, 3);
  quantizeEmbeddingRows(wte, 0, q);
  assert.deepEqual(q.shape, [3, 2]);
  for (let v = 0; v < 2; v++) {
    for (let c = 0; c < 3; c++) assert.ok(Math.abs(q.data[c * 2 + v] * q.scales[v] - wte[v * 3 + c]) <= (q.scales[v] / 2) * (1 + 1e-4), `token ${v}, column ${c}`);
  }
  assert.equal(q.data[0], 127);
  assert.equal(q.data[2 * 2 + 1], -127);
  const sliced = emptyHead(2, 3);
  quantizeEmbeddingRows(wte.subarray(3), 1, sliced);
  quantizeEmbeddingRows(wte.subarray(0, 3), 0, sliced);
  assert.deepEqual([...sliced.data], [...q.data]);
  assert.deepEqual([...sliced.scales], [...q.scales]);
  assert.throws(() => quantizeEmbeddingRows(wte, 1, emptyHead(2, 3)), RangeError);
});
