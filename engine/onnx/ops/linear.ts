// Matrix products: MatMul (batched, broadcasting), Gemm (2-d with transposes) and Einsum.
import { attr, type Tensor } from '../graph.ts';
import { broadcastShapes, formatShape, sameDim, ShapeError, type Dim } from '../shape.ts';

/** Batched matrix product [..., m, k] × [..., k, n] → [..., m, n]; batch dims broadcast. */
export function matmul(a: Tensor, b: Tensor): Tensor {
  if (a.dtype !== b.dtype) throw new TypeError(`MatMul: dtypes differ (${a.dtype} vs ${b.dtype})`);
  if (a.rank < 2 || b.rank < 2) throw new ShapeError(`MatMul: operands must have rank ≥ 2, got ${formatShape(a.shape)} and ${formatShape(b.shape)}`);
  const k1 = a.shape[a.rank - 1];
  const k2 = b.shape[b.rank - 2];
  if (!sameDim(k1, k2)) throw new ShapeError(`MatMul: inner dims differ: ${formatShape(a.shape)} × ${formatShape(b.shape)}`);
  const batch = broadcastShapes(a.shape.slice(0, -2), b.shape.slice(0, -2), 'MatMul batch');
  const shape = [...batch, a.shape[a.rank - 2], b.shape[b.rank - 1]];
  return a.graph.node('MatMul', [a, b], [{ dtype: a.dtype, shape }])[0];
}

export interface GemmOptions {
  transA?: boolean;
  transB?: boolean;
  alpha?: number;
  beta?: number;
}

/** alpha·op(A)·op(B) + beta·C for 2-d A and B; C broadcasts to [m, n]. */
export function gemm(a: Tensor, b: Tensor, c?: Tensor, options: GemmOptions = {}): Tensor {
  if (a.rank !== 2 || b.rank !== 2) throw new ShapeError(`Gemm: operands must be 2-d, got ${formatShape(a.shape)} and ${formatShape(b.shape)}`);
  const [m, k1] = options.transA ? [a.shape[1], a.shape[0]] : [a.shape[0], a.shape[1]];
  const [k2, n] = options.transB ? [b.shape[1], b.shape[0]] : [b.shape[0], b.shape[1]];
  if (!sameDim(k1, k2)) throw new ShapeError(`Gemm: inner dims differ (${k1} vs ${k2})`);
  if (c) broadcastShapes([m, n], c.shape, 'Gemm C');
  const attrs = {
    transA: attr.int(options.transA ? 1 : 0),
    transB: attr.int(options.transB ? 1 : 0),
    alpha: attr.float(options.alpha ?? 1),
    beta: attr.float(options.beta ?? 1),
  };
  return a.graph.node('Gemm', c ? [a, b, c] : [a, b], [{ dtype: a.dtype, shape: [m, n] }], attrs)[0];
}

/** Einsum with an explicit output ('bij,bjk->bik'); letters must agree on their dims across operands. */
export function einsum(equation: string, ...operands: Tensor[]): Tensor {
  const [lhs, rhs] = equation.replace(/\s+/g, '').split('->');
  if (rhs === undefined) throw new ShapeError(`Einsum: write the output explicitly ('...->...'), got ${equation}`);
  const terms = lhs.split(',');
  if (terms.length !== operands.length) throw new ShapeError(`Einsum ${equation}: ${terms.length} terms, ${operands.length} operands`);
  const dims = new Map<string, Dim>();
  terms.forEach((term, i) => {
    const t = operands[i];
    if (term.length !== t.rank) throw new ShapeError(`Einsum ${equation}: term ${term} vs ${formatShape(t.shape)}`);
    [...term].forEach((letter, j) => {
      const d = t.shape[j];
      const seen = dims.get(letter);
      if (seen === undefined || seen === 1) dims.set(letter, d);
      else if (d !== 1 && !sameDim(seen, d)) throw new ShapeError(`Einsum ${equation}: '${letter}' is ${seen} and ${d}`);
    });
  });
  const shape = [...rhs].map((letter) => {
    const d = dims.get(letter);
    if (d === undefined) throw new ShapeError(`Einsum ${equation}: output letter '${letter}' not in inputs`);
    return d;
  });
  return operands[0].graph.node('Einsum', operands, [{ dtype: operands[0].dtype, shape }], { equation: attr.string(equation) })[0];
}

/**
 * onnxruntime's DynamicQuantizeMatMul (com.microsoft): a [..., K] quantized to uint8 on the fly
 * (one scale per call) times int8 b [K, N] with per-column scales [N] (zero points 0), plus bias.
 * An approximation of a · (b · scale) + bias for memory-bound products.
 */
export function dynamicQuantizeMatMul(a: Tensor, b: Tensor, scales: Tensor, bias?: Tensor): Tensor {
  if (a.dtype !== 'float32' || b.dtype !== 'int8' || scales.dtype !== 'float32') throw new TypeError(`DynamicQuantizeMatMul: float32 × int8 with float32 scales, got ${a.dtype} × ${b.dtype}, ${scales.dtype}`);
  if (b.rank !== 2) throw new ShapeError(`DynamicQuantizeMatMul: b must be 2-d, got ${formatShape(b.shape)}`);
  if (!sameDim(a.shape[a.rank - 1], b.shape[0])) throw new ShapeError(`DynamicQuantizeMatMul: inner dims differ: ${formatShape(a.shape)} × ${formatShape(b.shape)}`);
  const g = a.graph;
  g.useDomain('com.microsoft', 1);
  const inputs = bias ? [a, b, scales, undefined, bias] : [a, b, scales];
  return g.node('DynamicQuantizeMatMul', inputs, [{ dtype: 'float32', shape: [...a.shape.slice(0, -1), b.shape[1]] }], {}, { domain: 'com.microsoft' })[0];
}
