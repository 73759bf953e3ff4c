// Op helpers the training graphs need that the shared builder (engine/onnx/ops) does not have,
// written on its low-level `graph.node(...)` API.
import { attr, op, type Tensor } from '../onnx/index.ts';

/** Zero-pads the first axis of a 2-d tensor from `rows` to `toRows` rows (at the end). */
export function padRows(x: Tensor, toRows: number): Tensor {
  const rows = x.shape[0];
  if (typeof rows !== 'number' || rows > toRows) throw new Error(`padRows: cannot pad ${rows} rows to ${toRows}`);
  if (rows === toRows) return x;
  const g = x.graph;
  const pads = g.int64s([0, 0, toRows - rows, 0]);
  return g.node('Pad', [x, pads, g.scalar(0, x.dtype)], [{ dtype: x.dtype, shape: [toRows, ...x.shape.slice(1)] }], { mode: attr.string('constant') })[0];
}

/** Elementwise sum of any number of same-shaped tensors (one ONNX Sum node). */
export function sumAll(terms: readonly Tensor[]): Tensor {
  if (terms.length === 0) throw new Error('sumAll: no terms');
  if (terms.length === 1) return terms[0];
  return terms[0].graph.node('Sum', terms, [{ dtype: terms[0].dtype, shape: terms[0].shape }])[0];
}

/** Swaps the last two axes: the transposed operand of a Gram matrix (ORT fuses it into MatMul). */
export function swapLast(x: Tensor): Tensor {
  const perm = x.shape.map((_, i) => i);
  perm[x.rank - 1] = x.rank - 2;
  perm[x.rank - 2] = x.rank - 1;
  return op.transpose(x, perm);
}

/** Σ over every axis but the first: [B, …] → [B]. */
export function sumPerExample(x: Tensor): Tensor {
  return op.reduceSum(x, x.shape.slice(1).map((_, i) => i + 1));
}

/** Σ of squares over every axis but the first: [B, …] → [B]. */
export function sumSquaresPerExample(x: Tensor): Tensor {
  return op.reduceSumSquare(x, x.shape.slice(1).map((_, i) => i + 1));
}

/**
 * Adds rows into a [V, D] table at token ids, for (ids, rows) pairs with ids [B, T] or [N] and rows
 * [N, D]: the tied embedding's gradient, where a token that occurs twice adds two rows. One
 * ScatterElements on axis 0 with each id repeated across D, which onnxruntime adds in order on one
 * thread. Not ScatterND: its CPU kernel splits the updates between threads and rows that share an
 * id race, losing updates at random (onnxruntime issue #18048; seen on GPT-2-small, 8 × 128 tokens).
 */
export function scatterAddRows(table: Tensor, pairs: readonly [Tensor, Tensor][]): Tensor {
  const ids = op.concat(pairs.map(([i, rows]) => op.reshape(i, [rows.shape[0], 1])), 0);
  const updates = op.concat(pairs.map(([, rows]) => rows), 0);
  return op.scatterElements(table, op.expandAs(ids, updates), updates, 0, 'add');
}
