// Reductions and the normalisations built on them: ReduceSum/Mean/Max, ArgMax, Softmax,
// LayerNormalization, SoftmaxCrossEntropyLoss. Opset 18 takes reduction axes as an input.
import { attr, type AttrValue, type Tensor } from '../graph.ts';
import { formatShape, normalizeAxis, sameShape, ShapeError, type Dim } from '../shape.ts';

function reducedShape(x: Tensor, axes: readonly number[], keepDims: boolean): Dim[] {
  return x.shape.flatMap((d, i) => (axes.includes(i) ? (keepDims ? [1] : []) : [d]));
}

function reduce(opType: string, x: Tensor, axes: readonly number[], keepDims: boolean): Tensor {
  const norm = axes.map((a) => normalizeAxis(a, x.rank, opType));
  const attrs = { keepdims: attr.int(keepDims ? 1 : 0) };
  return x.graph.node(opType, [x, x.graph.int64s(norm)], [{ dtype: x.dtype, shape: reducedShape(x, norm, keepDims) }], attrs)[0];
}

export const reduceSum = (x: Tensor, axes: readonly number[], keepDims = false): Tensor => reduce('ReduceSum', x, axes, keepDims);
export const reduceMean = (x: Tensor, axes: readonly number[], keepDims = false): Tensor => reduce('ReduceMean', x, axes, keepDims);
export const reduceMax = (x: Tensor, axes: readonly number[], keepDims = false): Tensor => reduce('ReduceMax', x, axes, keepDims);
export const reduceSumSquare = (x: Tensor, axes: readonly number[], keepDims = false): Tensor => reduce('ReduceSumSquare', x, axes, keepDims);

export function argMax(x: Tensor, axis: number, keepDims = false): Tensor {
  const ax = normalizeAxis(axis, x.rank, 'ArgMax');
  const attrs = { axis: attr.int(ax), keepdims: attr.int(keepDims ? 1 : 0) };
  return x.graph.node('ArgMax', [x], [{ dtype: 'int64', shape: reducedShape(x, [ax], keepDims) }], attrs)[0];
}

export function softmax(x: Tensor, axis = -1): Tensor {
  const ax = normalizeAxis(axis, x.rank, 'Softmax');
  return x.graph.node('Softmax', [x], [{ dtype: x.dtype, shape: x.shape }], { axis: attr.int(ax) })[0];
}

export function logSoftmax(x: Tensor, axis = -1): Tensor {
  const ax = normalizeAxis(axis, x.rank, 'LogSoftmax');
  return x.graph.node('LogSoftmax', [x], [{ dtype: x.dtype, shape: x.shape }], { axis: attr.int(ax) })[0];
}

export interface LayerNormOptions {
  /** First normalised axis; all axes from it to the end are normalised. Default -1. */
  axis?: number;
  epsilon?: number;
}

function checkLayerNorm(x: Tensor, scale: Tensor, bias: Tensor | undefined, ax: number): void {
  const normShape = x.shape.slice(ax);
  if (!sameShape(scale.shape, normShape)) throw new ShapeError(`LayerNormalization: scale ${formatShape(scale.shape)} vs normalised dims ${formatShape(normShape)}`);
  if (bias && !sameShape(bias.shape, normShape)) throw new ShapeError(`LayerNormalization: bias ${formatShape(bias.shape)} vs ${formatShape(normShape)}`);
}

export function layerNorm(x: Tensor, scale: Tensor, bias?: Tensor, options: LayerNormOptions = {}): Tensor {
  return layerNormWithStats(x, scale, bias, options, false).y;
}

/**
 * LayerNormalization that also returns the per-row mean and 1/σ (shape x.shape[:axis] + 1s),
 * which a hand-written backward pass needs.
 */
export function layerNormWithStats(
  x: Tensor,
  scale: Tensor,
  bias: Tensor | undefined,
  options: LayerNormOptions = {},
  withStats = true,
): { y: Tensor; mean: Tensor; invStdDev: Tensor } {
  const ax = normalizeAxis(options.axis ?? -1, x.rank, 'LayerNormalization');
  checkLayerNorm(x, scale, bias, ax);
  const statShape = x.shape.map((d, i) => (i < ax ? d : 1));
  const outs = [{ dtype: x.dtype, shape: x.shape }];
  if (withStats) outs.push({ dtype: x.dtype, shape: statShape }, { dtype: x.dtype, shape: statShape });
  const attrs = { axis: attr.int(ax), epsilon: attr.float(options.epsilon ?? 1e-5) };
  const [y, mean, invStdDev] = x.graph.node('LayerNormalization', bias ? [x, scale, bias] : [x, scale], outs, attrs);
  return { y, mean, invStdDev };
}

export interface CrossEntropyOptions {
  reduction?: 'none' | 'sum' | 'mean';
  ignoreIndex?: number;
}

/**
 * Softmax cross-entropy of scores [N, C] (or [N, C, d…]) against int64 labels [N] (or [N, d…]);
 * also returns the log-probabilities, which the backward pass reuses.
 */
export function softmaxCrossEntropy(scores: Tensor, labels: Tensor, options: CrossEntropyOptions = {}): { loss: Tensor; logProb: Tensor } {
  if (labels.dtype !== 'int64' && labels.dtype !== 'int32') throw new TypeError(`SoftmaxCrossEntropyLoss: labels must be integer, got ${labels.dtype}`);
  const reduction = options.reduction ?? 'mean';
  const expectedLabels = [scores.shape[0], ...scores.shape.slice(2)];
  if (!sameShape(labels.shape, expectedLabels)) throw new ShapeError(`SoftmaxCrossEntropyLoss: labels ${formatShape(labels.shape)} should be ${formatShape(expectedLabels)}`);
  const lossShape = reduction === 'none' ? labels.shape : [];
  const attrs: Record<string, AttrValue> = { reduction: attr.string(reduction) };
  if (options.ignoreIndex !== undefined) attrs.ignore_index = attr.int(options.ignoreIndex);
  const [loss, logProb] = scores.graph.node('SoftmaxCrossEntropyLoss', [scores, labels], [{ dtype: scores.dtype, shape: lossShape }, { dtype: scores.dtype, shape: scores.shape }], attrs);
  return { loss, logProb };
}

/** Running sum along `axis`. */
export function cumSum(x: Tensor, axis: number, options: { exclusive?: boolean; reverse?: boolean } = {}): Tensor {
  const ax = normalizeAxis(axis, x.rank, 'CumSum');
  const attrs = { exclusive: attr.int(options.exclusive ? 1 : 0), reverse: attr.int(options.reverse ? 1 : 0) };
  return x.graph.node('CumSum', [x, x.graph.scalar(ax, 'int64')], [{ dtype: x.dtype, shape: x.shape }], attrs)[0];
}
