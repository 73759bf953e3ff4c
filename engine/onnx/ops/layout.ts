// Ops that move data without arithmetic: reshape, transpose, concat, slice, split, (un)squeeze,
// expand, gather, scatter, triangular masks.
import { attr, type AttrValue, type Tensor } from '../graph.ts';
import { formatShape, normalizeAxis, normalizeDim, productOf, sameDim, sameShape, ShapeError, type Dim, type Shape } from '../shape.ts';

/**
 * Reshape to `shape`. Known dims are written literally; a symbolic dim at the same position as in
 * the input is copied (ONNX 0); one other symbolic dim may be inferred (ONNX -1). When more
 * symbolic dims move, pass `dimsFrom`: tensors whose run-time shapes hold them
 * ([B*T, V] → [B, T, V] with dimsFrom [ids] where ids is [B, T]). The element count must match
 * symbolically: [B, T, 768] → ['B*T', 768] is fine, → ['N', 768] is not.
 */
export function reshape(x: Tensor, shape: readonly Dim[], dimsFrom: readonly Tensor[] = []): Tensor {
  const target = shape.map(normalizeDim);
  if (normalizeDim(productOf(x.shape)) !== normalizeDim(productOf(target))) {
    throw new ShapeError(`Reshape: ${formatShape(x.shape)} has ${productOf(x.shape)} elements, ${formatShape(target)} has ${productOf(target)}`);
  }
  if (target.includes(0)) throw new ShapeError('Reshape: zero-sized dims are not supported');
  const g = x.graph;
  const moved = target.filter((d, i) => typeof d !== 'number' && !(i < x.rank && sameDim(x.shape[i], d))).length;
  if (moved <= 1) {
    const spec = target.map((d, i) => (typeof d === 'number' ? d : i < x.rank && sameDim(x.shape[i], d) ? 0 : -1));
    return g.node('Reshape', [x, g.int64s(spec)], [{ dtype: x.dtype, shape: target }])[0];
  }
  // Several symbolic dims move: assemble the target shape at run time from the sources' shapes.
  const pieces = target.map((d, i) => {
    if (typeof d === 'number') return g.int64s([d]);
    if (i < x.rank && sameDim(x.shape[i], d)) return g.int64s([0]);
    for (const src of dimsFrom) {
      const j = src.shape.findIndex((sd) => sameDim(sd, d));
      if (j >= 0) return gather(shapeOf(src), g.int64s([j]));
    }
    throw new ShapeError(`Reshape ${formatShape(x.shape)} → ${formatShape(target)}: no tensor in dimsFrom has dim ${d}`);
  });
  const spec = concat(pieces, 0);
  return g.node('Reshape', [x, spec], [{ dtype: x.dtype, shape: target }])[0];
}

export function transpose(x: Tensor, perm: readonly number[]): Tensor {
  const sorted = [...perm].sort((a, b) => a - b);
  if (perm.length !== x.rank || sorted.some((p, i) => p !== i)) throw new ShapeError(`Transpose: perm [${perm}] invalid for ${formatShape(x.shape)}`);
  return x.graph.node('Transpose', [x], [{ dtype: x.dtype, shape: perm.map((p) => x.shape[p]) }], { perm: attr.ints(perm) })[0];
}

/** Sum of dims: numeric when all are known, otherwise a label such as 'S+T'. */
function sumOf(dims: readonly Dim[]): Dim {
  if (dims.every((d) => typeof d === 'number')) return (dims as number[]).reduce((a, b) => a + b, 0);
  return dims.join('+');
}

export function concat(tensors: readonly Tensor[], axis: number): Tensor {
  if (tensors.length === 0) throw new ShapeError('Concat: no inputs');
  const first = tensors[0];
  const ax = normalizeAxis(axis, first.rank, 'Concat');
  for (const t of tensors) {
    if (t.dtype !== first.dtype || t.rank !== first.rank) throw new ShapeError(`Concat: ${t} does not match ${first}`);
    t.shape.forEach((d, i) => {
      if (i !== ax && !sameDim(d, first.shape[i])) throw new ShapeError(`Concat on axis ${ax}: ${t} vs ${first}`);
    });
  }
  const shape = [...first.shape];
  shape[ax] = sumOf(tensors.map((t) => t.shape[ax]));
  return first.graph.node('Concat', tensors, [{ dtype: first.dtype, shape }], { axis: attr.int(ax) })[0];
}

/** ONNX's "to the end" for Slice ends. */
export const END = Number.MAX_SAFE_INTEGER;

function slicedDim(d: Dim, start: number, end: number, step: number): Dim | undefined {
  if (typeof d === 'number') {
    const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), hi);
    const s = start < 0 ? clamp(start + d, 0, d) : clamp(start, 0, d);
    const e = end < 0 ? clamp(end + d, 0, d) : clamp(end, 0, d);
    if (step > 0) return Math.max(0, Math.ceil((e - s) / step));
    return undefined;
  }
  if (step === 1 && start === 0 && end >= END) return d;
  if (step === 1 && start < 0 && end >= END) return -start; // the last |start| entries
  return undefined;
}

export interface SliceAxis {
  axis: number;
  start: number;
  end: number;
  step?: number;
  /** Name of the resulting dim when it cannot be computed statically (a symbolic input dim). */
  dim?: Dim;
}

/** Static slice along one or more axes. */
export function slice(x: Tensor, ...axes: SliceAxis[]): Tensor {
  const shape = [...x.shape];
  const norm = axes.map((a) => ({ ...a, axis: normalizeAxis(a.axis, x.rank, 'Slice'), step: a.step ?? 1 }));
  for (const a of norm) {
    const d = a.dim ?? slicedDim(x.shape[a.axis], a.start, a.end, a.step);
    if (d === undefined) throw new ShapeError(`Slice: cannot tell the size of dim ${a.axis} (${x.shape[a.axis]}) [${a.start}:${a.end}:${a.step}]; pass 'dim'`);
    shape[a.axis] = d;
  }
  const g = x.graph;
  const inputs = [x, g.int64s(norm.map((a) => a.start)), g.int64s(norm.map((a) => a.end)), g.int64s(norm.map((a) => a.axis)), g.int64s(norm.map((a) => a.step))];
  return g.node('Slice', inputs, [{ dtype: x.dtype, shape }])[0];
}

/** Slice whose starts/ends are run-time int64 tensors; the caller states the resulting shape. */
export function sliceDynamic(x: Tensor, starts: Tensor, ends: Tensor, axes: readonly number[], shape: Shape): Tensor {
  const g = x.graph;
  return g.node('Slice', [x, starts, ends, g.int64s(axes.map((a) => normalizeAxis(a, x.rank, 'Slice')))], [{ dtype: x.dtype, shape }])[0];
}

/** Splits `x` along `axis` into pieces of the given sizes. */
export function split(x: Tensor, axis: number, sizes: readonly number[]): Tensor[] {
  const ax = normalizeAxis(axis, x.rank, 'Split');
  const total = x.shape[ax];
  if (typeof total === 'number' && sizes.reduce((a, b) => a + b, 0) !== total) throw new ShapeError(`Split: sizes [${sizes}] do not add up to ${total}`);
  const outs = sizes.map((s) => {
    const shape = [...x.shape];
    shape[ax] = s;
    return { dtype: x.dtype, shape };
  });
  return x.graph.node('Split', [x, x.graph.int64s(sizes)], outs, { axis: attr.int(ax) });
}

export function unsqueeze(x: Tensor, axes: readonly number[]): Tensor {
  const rank = x.rank + axes.length;
  const norm = axes.map((a) => normalizeAxis(a, rank, 'Unsqueeze'));
  const shape: Dim[] = [];
  let next = 0;
  for (let i = 0; i < rank; i++) shape.push(norm.includes(i) ? 1 : x.shape[next++]);
  return x.graph.node('Unsqueeze', [x, x.graph.int64s(norm)], [{ dtype: x.dtype, shape }])[0];
}

export function squeeze(x: Tensor, axes: readonly number[]): Tensor {
  const norm = axes.map((a) => normalizeAxis(a, x.rank, 'Squeeze'));
  for (const a of norm) if (x.shape[a] !== 1) throw new ShapeError(`Squeeze: dim ${a} of ${formatShape(x.shape)} is not 1`);
  const shape = x.shape.filter((_, i) => !norm.includes(i));
  return x.graph.node('Squeeze', [x, x.graph.int64s(norm)], [{ dtype: x.dtype, shape }])[0];
}

/** The run-time shape of `x` as an int64 vector. */
export function shapeOf(x: Tensor): Tensor {
  return x.graph.node('Shape', [x], [{ dtype: 'int64', shape: [x.rank] }])[0];
}

/** Broadcasts `x` to the shape of `like` (same rank; dims of x must be 1 or equal). */
export function expandAs(x: Tensor, like: Tensor): Tensor {
  if (x.rank !== like.rank) throw new ShapeError(`Expand: rank ${x.rank} vs ${like.rank}`);
  x.shape.forEach((d, i) => {
    if (d !== 1 && !sameDim(d, like.shape[i])) throw new ShapeError(`Expand: ${formatShape(x.shape)} cannot expand to ${formatShape(like.shape)}`);
  });
  return x.graph.node('Expand', [x, shapeOf(like)], [{ dtype: x.dtype, shape: like.shape }])[0];
}

/** Rows of `data` along `axis` picked by `indices`: out = data.shape[:axis] + indices.shape + data.shape[axis+1:]. */
export function gather(data: Tensor, indices: Tensor, axis = 0): Tensor {
  if (indices.dtype !== 'int64' && indices.dtype !== 'int32') throw new TypeError(`Gather: indices must be int32/int64, got ${indices.dtype}`);
  const ax = normalizeAxis(axis, data.rank, 'Gather');
  const shape = [...data.shape.slice(0, ax), ...indices.shape, ...data.shape.slice(ax + 1)];
  return data.graph.node('Gather', [data, indices], [{ dtype: data.dtype, shape }], { axis: attr.int(ax) })[0];
}

export function gatherElements(data: Tensor, indices: Tensor, axis: number): Tensor {
  const ax = normalizeAxis(axis, data.rank, 'GatherElements');
  if (indices.rank !== data.rank) throw new ShapeError(`GatherElements: rank ${indices.rank} vs ${data.rank}`);
  return data.graph.node('GatherElements', [data, indices], [{ dtype: data.dtype, shape: indices.shape }], { axis: attr.int(ax) })[0];
}

export type ScatterReduction = 'none' | 'add' | 'mul' | 'max' | 'min';

/**
 * Writes (or with a reduction, accumulates) `updates` into a copy of `data` at `indices` (int64 [..., k]).
 * Beware: onnxruntime's CPU kernel splits the updates between threads, so with reduction 'add' two
 * updates at one index can race and one is lost (onnxruntime issue #18048): use scatterElements
 * for sums over repeated indices.
 */
export function scatterND(data: Tensor, indices: Tensor, updates: Tensor, reduction: ScatterReduction = 'none'): Tensor {
  if (indices.dtype !== 'int64') throw new TypeError(`ScatterND: indices must be int64, got ${indices.dtype}`);
  const k = indices.shape[indices.rank - 1];
  if (typeof k !== 'number') throw new ShapeError('ScatterND: the last dim of indices must be static');
  const expected = [...indices.shape.slice(0, -1), ...data.shape.slice(k)];
  if (!sameShape(expected, updates.shape)) throw new ShapeError(`ScatterND: updates ${formatShape(updates.shape)} should be ${formatShape(expected)}`);
  const attrs: Record<string, AttrValue> = reduction === 'none' ? {} : { reduction: attr.string(reduction) };
  return data.graph.node('ScatterND', [data, indices, updates], [{ dtype: data.dtype, shape: data.shape }], attrs)[0];
}

/**
 * ScatterElements: a copy of `data` with each element of `updates` written (or, with a reduction,
 * combined) at its own index along `axis`; indices (int64) and updates have the same shape.
 * onnxruntime's CPU kernel goes through the updates in order on one thread, so duplicate indices
 * with reduction 'add' sum exactly and deterministically (its ScatterND does not: see scatterND).
 */
export function scatterElements(data: Tensor, indices: Tensor, updates: Tensor, axis: number, reduction: ScatterReduction = 'none'): Tensor {
  if (indices.dtype !== 'int64') throw new TypeError(`ScatterElements: indices must be int64, got ${indices.dtype}`);
  if (updates.dtype !== data.dtype) throw new TypeError(`ScatterElements: updates are ${updates.dtype}, data ${data.dtype}`);
  if (indices.rank !== data.rank || !sameShape(indices.shape, updates.shape)) {
    throw new ShapeError(`ScatterElements: indices ${formatShape(indices.shape)} and updates ${formatShape(updates.shape)} must share one shape of data's rank ${data.rank}`);
  }
  const attrs: Record<string, AttrValue> = { axis: attr.int(normalizeAxis(axis, data.rank, 'ScatterElements')) };
  if (reduction !== 'none') attrs.reduction = attr.string(reduction);
  return data.graph.node('ScatterElements', [data, indices, updates], [{ dtype: data.dtype, shape: data.shape }], attrs)[0];
}

/** Keeps the upper (or lower) triangle of the last two dims, shifted by diagonal k. */
export function trilu(x: Tensor, options: { upper: boolean; k?: number }): Tensor {
  const inputs = options.k === undefined ? [x] : [x, x.graph.scalar(options.k, 'int64')];
  return x.graph.node('Trilu', inputs, [{ dtype: x.dtype, shape: x.shape }], { upper: attr.int(options.upper ? 1 : 0) })[0];
}
