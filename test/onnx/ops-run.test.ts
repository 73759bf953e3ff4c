// The ops onnxruntime actually runs, checked against values computed by hand in JavaScript.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import ort from 'onnxruntime-node';
import { EngineSession, Graph, op, serializeGraph } from '../../engine/onnx/index.ts';

const f32 = (data: number[], dims: number[]) => new ort.Tensor('float32', Float32Array.from(data), dims);
const i64 = (data: number[], dims: number[]) => new ort.Tensor('int64', BigInt64Array.from(data, BigInt), dims);

async function run(g: Graph, feeds: Record<string, ort.Tensor>): Promise<Record<string, number[]>> {
  const session = await EngineSession.create(serializeGraph(g));
  try {
    const out = await session.run(feeds);
    return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, Array.from(v.data as Float32Array, Number)]));
  } finally {
    await session.release();
  }
}

function close(actual: number[], expected: number[], tol = 1e-5): void {
  assert.equal(actual.length, expected.length);
  actual.forEach((a, i) => assert.ok(Math.abs(a - expected[i]) <= tol, `index ${i}: ${a} vs ${expected[i]}`));
}

void test('elementwise, gelu, where, trilu and cast', async () => {
  const g = new Graph();
  const x = g.input('x', 'float32', [2, 2]);
  g.output(op.geluTanh(x), 'gelu');
  g.output(op.erf(x), 'erf');
  g.output(op.where(op.less(x, 0), 0, x), 'relu');
  g.output(op.trilu(op.add(op.mul(x, 0), 1), { upper: false }), 'tril');
  g.output(op.cast(op.greater(x, 0), 'float32'), 'positive');
  const xs = [-1, 0.5, 2, -0.25];
  const out = await run(g, { x: f32(xs, [2, 2]) });
  close(out.gelu, xs.map((v) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3)))));
  close(out.erf, [-0.8427008, 0.5204999, 0.9953223, -0.2763264]);
  close(out.relu, [0, 0.5, 2, 0]);
  close(out.tril, [1, 0, 1, 1]);
  close(out.positive, [0, 1, 1, 0]);
});

void test('layerNorm with stats, softmax, reductions', async () => {
  const g = new Graph();
  const x = g.input('x', 'float32', ['N', 4]);
  const scale = g.input('scale', 'float32', [4]);
  const { y, mean, invStdDev } = op.layerNormWithStats(x, scale, undefined, { epsilon: 0 });
  g.output(y, 'y');
  g.output(mean, 'mean');
  g.output(invStdDev, 'inv');
  g.output(op.softmax(x), 'softmax');
  g.output(op.reduceSum(x, [0]), 'colsum');
  g.output(op.reduceMax(x, [1], true), 'rowmax');
  g.output(op.cumSum(x, 1), 'cumsum');
  const out = await run(g, { x: f32([1, 2, 3, 4, 0, 0, 0, 8], [2, 4]), scale: f32([1, 1, 1, 2], [4]) });
  const sd1 = Math.sqrt(1.25);
  close(out.y.slice(0, 4), [-1.5 / sd1, -0.5 / sd1, 0.5 / sd1, (2 * 1.5) / sd1]);
  close(out.mean, [2.5, 2]);
  close(out.inv, [1 / sd1, 1 / Math.sqrt(12)]);
  const e = [1, 2, 3, 4].map(Math.exp);
  close(out.softmax.slice(0, 4), e.map((v) => v / e.reduce((a, b) => a + b)));
  close(out.colsum, [1, 2, 3, 12]);
  close(out.rowmax, [4, 8]);
  close(out.cumsum, [1, 3, 6, 10, 0, 0, 0, 8]);
});

void test('gather, scatterND with add, transpose, reshape with dimsFrom, concat, slice, split', async () => {
  const g = new Graph();
  const table = g.input('table', 'float32', [4, 2]);
  const ids = g.input('ids', 'int64', ['B', 'T']);
  const rows = op.gather(table, ids); // [B, T, 2]
  g.output(op.scatterND(op.mul(table, 0), op.unsqueeze(ids, [2]), rows, 'add'), 'counts');
  const flat = op.reshape(rows, ['B*T', 2]);
  g.output(op.reshape(op.transpose(flat, [1, 0]), [2, 'B*T']), 'transposed');
  g.output(op.reshape(flat, ['B', 'T', 2], [ids]), 'back');
  g.output(op.concat([table, table], 0), 'stacked');
  g.output(op.slice(table, { axis: 0, start: 1, end: 3 }), 'middle');
  const [a, b] = op.split(table, 1, [1, 1]);
  g.output(op.sub(b, a), 'diff');
  const t = [0, 1, 10, 11, 20, 21, 30, 31];
  const out = await run(g, { table: f32(t, [4, 2]), ids: i64([3, 1, 3], [1, 3]) });
  close(out.counts, [0, 0, 10, 11, 0, 0, 60, 62]);
  close(out.transposed, [30, 10, 30, 31, 11, 31]);
  close(out.back, [30, 31, 10, 11, 30, 31]);
  close(out.stacked, [...t, ...t]);
  close(out.middle, [10, 11, 20, 21]);
  close(out.diff, [1, 1, 1, 1]);
});

void test('gemm with transB, einsum, batched matmul, cross-entropy', async () => {
  const g = new Graph();
  const a = g.input('a', 'float32', [2, 3]);
  const w = g.input('w', 'float32', [2, 3]);
  g.output(op.gemm(a, w, g.constant('float32', [2], [10, 20]), { transB: true }), 'gemm');
  g.output(op.einsum('ij,kj->ik', a, w), 'einsum');
  g.output(op.matmul(op.unsqueeze(a, [0]), op.unsqueeze(op.transpose(w, [1, 0]), [0])), 'bmm');
  const labels = g.input('labels', 'int64', [2]);
  const { loss } = op.softmaxCrossEntropy(a, labels, { reduction: 'none' });
  g.output(loss, 'loss');
  const A = [1, 2, 3, 4, 5, 6];
  const out = await run(g, { a: f32(A, [2, 3]), w: f32([1, 0, 0, 0, 1, 1], [2, 3]), labels: i64([2, 0], [2]) });
  close(out.gemm, [11, 25, 14, 31]);
  close(out.einsum, [1, 5, 4, 11]);
  close(out.bmm, [1, 5, 4, 11]);
  const lse = (r: number[]) => Math.log(r.reduce((s, v) => s + Math.exp(v), 0));
  close(out.loss, [lse([1, 2, 3]) - 3, lse([4, 5, 6]) - 4]);
});

void test('weights as initializers and as inputs give the same result', async () => {
  const build = (baked: boolean) => {
    const g = new Graph();
    const x = g.input('x', 'float32', ['N', 2]);
    const w = baked ? g.initializer('w', 'float32', [2, 2], Float32Array.from([1, 2, 3, 4])) : g.input('w', 'float32', [2, 2]);
    g.output(op.matmul(x, w), 'y');
    return g;
  };
  const x = f32([1, 1, 0, 2], [2, 2]);
  const baked = await run(build(true), { x });
  const fed = await run(build(false), { x, w: f32([1, 2, 3, 4], [2, 2]) });
  close(baked.y, [4, 6, 6, 8]);
  assert.deepEqual(fed.y, baked.y);
});
