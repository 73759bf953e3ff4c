// Elementwise ops with numpy broadcasting. A plain number operand becomes a scalar constant of the
// other operand's dtype, so `mul(x, 0.5)` reads like the maths.
import { attr, type Tensor } from '../graph.ts';
import type { DType } from '../dtype.ts';
import { broadcastShapes } from '../shape.ts';

export type Operand = Tensor | number;

function lift(a: Operand, b: Operand, op: string): [Tensor, Tensor] {
  if (typeof a === 'number' && typeof b === 'number') throw new TypeError(`${op}: at least one operand must be a tensor`);
  const ref = (typeof a === 'number' ? b : a) as Tensor;
  const ta = typeof a === 'number' ? ref.graph.scalar(a, ref.dtype) : a;
  const tb = typeof b === 'number' ? ref.graph.scalar(b, ref.dtype) : b;
  if (ta.dtype !== tb.dtype) throw new TypeError(`${op}: dtypes differ (${ta.dtype} vs ${tb.dtype})`);
  return [ta, tb];
}

function binary(opType: string, a: Operand, b: Operand, resultType?: DType): Tensor {
  const [ta, tb] = lift(a, b, opType);
  const shape = broadcastShapes(ta.shape, tb.shape, opType);
  return ta.graph.node(opType, [ta, tb], [{ dtype: resultType ?? ta.dtype, shape }])[0];
}

function unary(opType: string, x: Tensor): Tensor {
  return x.graph.node(opType, [x], [{ dtype: x.dtype, shape: x.shape }])[0];
}

export const add = (a: Operand, b: Operand): Tensor => binary('Add', a, b);
export const sub = (a: Operand, b: Operand): Tensor => binary('Sub', a, b);
export const mul = (a: Operand, b: Operand): Tensor => binary('Mul', a, b);
export const div = (a: Operand, b: Operand): Tensor => binary('Div', a, b);
export const pow = (a: Operand, b: Operand): Tensor => binary('Pow', a, b);
export const max = (a: Operand, b: Operand): Tensor => binary('Max', a, b);
export const min = (a: Operand, b: Operand): Tensor => binary('Min', a, b);
export const equal = (a: Operand, b: Operand): Tensor => binary('Equal', a, b, 'bool');
export const less = (a: Operand, b: Operand): Tensor => binary('Less', a, b, 'bool');
export const greater = (a: Operand, b: Operand): Tensor => binary('Greater', a, b, 'bool');
export const and = (a: Tensor, b: Tensor): Tensor => binary('And', a, b, 'bool');
export const or = (a: Tensor, b: Tensor): Tensor => binary('Or', a, b, 'bool');

export const neg = (x: Tensor): Tensor => unary('Neg', x);
export const abs = (x: Tensor): Tensor => unary('Abs', x);
export const exp = (x: Tensor): Tensor => unary('Exp', x);
export const log = (x: Tensor): Tensor => unary('Log', x);
export const sqrt = (x: Tensor): Tensor => unary('Sqrt', x);
export const reciprocal = (x: Tensor): Tensor => unary('Reciprocal', x);
export const erf = (x: Tensor): Tensor => unary('Erf', x);
export const tanh = (x: Tensor): Tensor => unary('Tanh', x);
export const sigmoid = (x: Tensor): Tensor => unary('Sigmoid', x);
export const relu = (x: Tensor): Tensor => unary('Relu', x);
export const identity = (x: Tensor): Tensor => unary('Identity', x);
export const not = (x: Tensor): Tensor => {
  if (x.dtype !== 'bool') throw new TypeError(`Not: expected bool, got ${x.dtype}`);
  return unary('Not', x);
};

/** cond ? x : y, broadcasting all three. */
export function where(cond: Tensor, x: Operand, y: Operand): Tensor {
  if (cond.dtype !== 'bool') throw new TypeError(`Where: condition must be bool, got ${cond.dtype}`);
  const [tx, ty] = lift(x, y, 'Where');
  const shape = broadcastShapes(broadcastShapes(cond.shape, tx.shape, 'Where'), ty.shape, 'Where');
  return cond.graph.node('Where', [cond, tx, ty], [{ dtype: tx.dtype, shape }])[0];
}

const castTargets: Record<DType, number> = { float32: 1, uint8: 2, int8: 3, int32: 6, int64: 7, bool: 9, float16: 10, float64: 11 };

export function cast(x: Tensor, to: DType): Tensor {
  if (x.dtype === to) return x;
  return x.graph.node('Cast', [x], [{ dtype: to, shape: x.shape }], { to: attr.int(castTargets[to]) })[0];
}

/** GPT-2's "gelu_new": 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))), written exactly as Hugging Face does. */
export function geluTanh(x: Tensor): Tensor {
  const inner = mul(add(x, mul(pow(x, 3), 0.044715)), Math.sqrt(2 / Math.PI));
  return mul(mul(x, 0.5), add(tanh(inner), 1));
}

/** Exact gelu: 0.5·x·(1 + erf(x/√2)). */
export function geluErf(x: Tensor): Tensor {
  return mul(mul(x, 0.5), add(erf(mul(x, Math.SQRT1_2)), 1));
}
