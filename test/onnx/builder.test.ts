// The graph builder's static checks: shapes are inferred (symbolic dims included) and mistakes
// fail where the graph is written.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromBinary } from '@bufbuild/protobuf';
import { ModelProtoSchema } from 'onnx-buf';
import { Graph, op, serializeGraph, ShapeError } from '../../engine/onnx/index.ts';

void test('matmul, gemm and einsum infer shapes and reject mismatched inner dims', () => {
  const g = new Graph();
  const x = g.input('x', 'float32', ['B', 'T', 64]);
  const w = g.input('w', 'float32', [64, 256]);
  assert.deepEqual(op.matmul(x, w).shape, ['B', 'T', 256]);
  assert.throws(() => op.matmul(w, x), ShapeError);
  const a = g.input('a', 'float32', ['N', 64]);
  const e = g.input('e', 'float32', [1000, 64]);
  assert.deepEqual(op.gemm(a, e, undefined, { transB: true }).shape, ['N', 1000]);
  assert.throws(() => op.gemm(a, e), ShapeError);
  const k = g.input('k', 'float32', ['B', 'T', 32]);
  assert.deepEqual(op.einsum('btc,bsc->bts', x, g.input('y', 'float32', ['B', 'S', 64])).shape, ['B', 'T', 'S']);
  assert.throws(() => op.einsum('btc,btc->bt', x, k), ShapeError);
});

void test('broadcasting follows numpy and names the clash', () => {
  const g = new Graph();
  const x = g.input('x', 'float32', ['B', 1, 'T', 'T']);
  const y = g.input('y', 'float32', ['B', 12, 'T', 'T']);
  assert.deepEqual(op.add(x, y).shape, ['B', 12, 'T', 'T']);
  assert.deepEqual(op.mul(x, 2).shape, x.shape);
  const z = g.input('z', 'float32', ['B', 12, 'S', 'T']);
  assert.throws(() => op.add(y, z), /dim 2: T vs S/);
  assert.throws(() => op.add(x, g.input('i', 'int64', [1])), TypeError);
});

void test('reshape checks element counts symbolically and encodes copy/infer dims', () => {
  const g = new Graph();
  const x = g.input('x', 'float32', ['B', 'T', 768]);
  const flat = op.reshape(x, ['B*T', 768]);
  assert.deepEqual(flat.shape, ['B*T', 768]);
  assert.deepEqual(op.reshape(x, ['B', 'T', 12, 64]).shape, ['B', 'T', 12, 64]);
  assert.throws(() => op.reshape(x, ['N', 768]), ShapeError);
  assert.throws(() => op.reshape(x, ['B', 'T', 12, 60]), ShapeError);
  assert.throws(() => op.reshape(flat, ['B', 'T', 768]), /dimsFrom/);
  assert.deepEqual(op.reshape(flat, ['B', 'T', 768], [x]).shape, ['B', 'T', 768]);
  assert.deepEqual(op.reshape(x, ['T*B', 768]).shape, ['B*T', 768]); // products are canonical
});

void test('layout ops: transpose, concat, slice, split, squeeze, gather, scatterND', () => {
  const g = new Graph();
  const x = g.input('x', 'float32', ['B', 12, 'T', 64]);
  assert.deepEqual(op.transpose(x, [0, 2, 1, 3]).shape, ['B', 'T', 12, 64]);
  assert.throws(() => op.transpose(x, [0, 1, 2]), ShapeError);
  const past = g.input('past', 'float32', ['B', 12, 'S', 64]);
  assert.deepEqual(op.concat([past, x], 2).shape, ['B', 12, 'S+T', 64]);
  assert.throws(() => op.concat([past, x], 3), ShapeError);
  assert.deepEqual(op.slice(x, { axis: 3, start: 0, end: 32 }).shape, ['B', 12, 'T', 32]);
  assert.deepEqual(op.slice(x, { axis: 2, start: -1, end: op.END }).shape, ['B', 12, 1, 64]);
  assert.throws(() => op.slice(x, { axis: 2, start: 1, end: op.END }), /pass 'dim'/);
  assert.deepEqual(op.slice(x, { axis: 2, start: 1, end: op.END, dim: 'T-1' }).shape, ['B', 12, 'T-1', 64]);
  assert.deepEqual(op.split(x, -1, [16, 48]).map((t) => t.shape[3]), [16, 48]);
  assert.throws(() => op.split(x, -1, [16, 16]), ShapeError);
  assert.deepEqual(op.squeeze(op.unsqueeze(x, [0]), [0]).shape, x.shape);
  assert.throws(() => op.squeeze(x, [1]), ShapeError);
  const table = g.input('table', 'float32', [50257, 64]);
  const ids = g.input('ids', 'int64', ['B', 'T']);
  assert.deepEqual(op.gather(table, ids).shape, ['B', 'T', 64]);
  const grads = g.input('grads', 'float32', ['B', 'T', 64]);
  assert.deepEqual(op.scatterND(table, op.unsqueeze(ids, [2]), grads, 'add').shape, [50257, 64]);
  assert.throws(() => op.scatterND(table, op.unsqueeze(ids, [2]), x, 'add'), ShapeError);
});

void test('reductions and normalisations', () => {
  const g = new Graph();
  const x = g.input('x', 'float32', ['B', 'T', 64]);
  assert.deepEqual(op.reduceSum(x, [-1]).shape, ['B', 'T']);
  assert.deepEqual(op.reduceSum(x, [1, 2], true).shape, ['B', 1, 1]);
  const s = g.input('s', 'float32', [64]);
  const { y, mean, invStdDev } = op.layerNormWithStats(x, s, s);
  assert.deepEqual([y.shape, mean.shape, invStdDev.shape], [x.shape, ['B', 'T', 1], ['B', 'T', 1]]);
  assert.throws(() => op.layerNorm(x, g.input('bad', 'float32', [32])), ShapeError);
  const scores = g.input('scores', 'float32', ['N', 100]);
  const labels = g.input('labels', 'int64', ['N']);
  assert.deepEqual(op.softmaxCrossEntropy(scores, labels, { reduction: 'none' }).loss.shape, ['N']);
});

void test('serialized models carry opset, symbolic dims and outputs', () => {
  const g = new Graph({ opset: 18 });
  const x = g.input('x', 'float32', ['B', 3]);
  g.output(op.tanh(x), 'y');
  g.output(x, 'x_again'); // an input as output goes through Identity
  const model = fromBinary(ModelProtoSchema, serializeGraph(g));
  assert.equal(model.opsetImport[0].version, 18n);
  assert.deepEqual(model.graph?.output.map((o) => o.name), ['y', 'x_again']);
  const dims = model.graph?.input[0].type?.value.case === 'tensorType' ? model.graph.input[0].type.value.value.shape?.dim : [];
  assert.deepEqual(dims?.map((d) => d.value.value), ['B', 3n]);
  assert.throws(() => g.input('x', 'float32', [1]), /already used/);
  assert.throws(() => serializeGraph(new Graph()), /no outputs/);
});
