// The tied LM head and the causal language-model loss, forward and backward.
//
// Loss definition (the privacy unit is one example, so its loss must depend on that example only):
//   token t of example b is a target iff attention_mask[b, t] = attention_mask[b, t+1] = 1 (t < T−1);
//   'sum'  (default): ℓ_b = Σ_targets −log p(ids[b, t+1] | ids[b, ≤t])   — engine/train's contract;
//   'mean':           ℓ_b = that sum / max(1, n_b), n_b = number of targets — Opacus's convention for
//                     generative models (DPLossFastGradientClipping, reduction 'mean', ignore_index);
//   the micro-batch objective is Σ_b ℓ_b, NEVER a token mean over the batch (it would couple examples).
// With 'sum', Σ over the data is the usual token-level LM objective; clipping then bounds long and
// short examples alike. Private and non-private training use the same definition, so their models
// are comparable.
import { op, type Tensor } from '../onnx/index.ts';
import type { BatchDims, GradientSink } from './grad-sink.ts';

export type ExampleLoss = 'sum' | 'mean';

export interface LmLossInputs {
  hidden: Tensor; // ln_f output [N, D]
  wte: Tensor; // [V, D]
  wteName: string;
  ids: Tensor; // [B, T] int64
  attentionMask: Tensor; // [B, T] int64, 1 = real token
  exampleLoss: ExampleLoss;
}

export interface LmLossResult {
  /** ℓ_b [B] under the chosen definition. */
  exampleLoss: Tensor;
  /** n_b [B] (float). */
  exampleTargets: Tensor;
  /** d(Σ_b ℓ_b)/d hidden [N, D]. */
  dHidden: Tensor;
}

/** Labels (next token, 0 where there is none) and per-token loss weights (1[target], divided by max(1, n_b) for 'mean'), both [B, T]. */
function targets(ids: Tensor, attentionMask: Tensor, dims: BatchDims, dtype: 'float32' | 'float64', reduction: ExampleLoss): { labels: Tensor; weights: Tensor; counts: Tensor } {
  const T = dims.T;
  const firstCol = (x: Tensor) => op.slice(x, { axis: 1, start: 0, end: 1 });
  const shiftLeft = (x: Tensor, fill: Tensor) => op.concat([op.slice(x, { axis: 1, start: 1, end: T }), fill], 1);
  const labels = shiftLeft(ids, op.mul(firstCol(ids), 0));
  const mask = op.cast(attentionMask, dtype);
  const zeros = op.mul(firstCol(mask), 0);
  const isTarget = op.mul(mask, shiftLeft(mask, zeros));
  const counts = op.reduceSum(isTarget, [1]);
  const weights = reduction === 'sum' ? isTarget : op.div(isTarget, op.unsqueeze(op.max(counts, 1), [1]));
  return { labels, weights, counts };
}

export function lmLossForwardBackward(x: LmLossInputs, dims: BatchDims, sink: GradientSink): LmLossResult {
  const dtype = x.hidden.dtype as 'float32' | 'float64';
  const N = x.hidden.shape[0];
  const { labels, weights, counts } = targets(x.ids, x.attentionMask, dims, dtype, x.exampleLoss);
  const labelRows = op.reshape(labels, [N]);
  const weightRows = op.reshape(weights, [N]);

  const logits = op.gemm(x.hidden, x.wte, undefined, { transB: true }); // [N, V]
  // LogSoftmax on the last axis of the 2-d logits: onnxruntime expands SoftmaxCrossEntropyLoss into
  // a LogSoftmax over axis 1 of [N, V, 1], a strided kernel several times slower.
  const logProb = op.logSoftmax(logits, -1);
  const nll = op.neg(op.reshape(op.gatherElements(logProb, op.unsqueeze(labelRows, [1]), 1), [N]));
  const exampleLoss = op.reduceSum(op.reshape(op.mul(nll, weightRows), [dims.B, dims.T]), [1]);

  // dℓ/dlogits = w_t·(p_t − onehot(y_t)). Neither the weights nor the one-hot touch the [N, V]
  // tensor: w scales the narrow side (hidden rows), and the one-hot part is a gather/scatter of
  // rows of W: dHidden = w⊙(p·W − W[y]); the head gradient is pᵀ·(w⊙h) − scatter(w⊙h at y).
  const probs = op.exp(logProb);
  const weightColumn = op.unsqueeze(weightRows, [1]);
  sink.tokenHead(x.wteName, { hidden: op.mul(x.hidden, weightColumn), probs, labels: labelRows });
  const dHidden = op.mul(op.sub(op.gemm(probs, x.wte), op.gather(x.wte, labelRows)), weightColumn);
  return { exampleLoss, exampleTargets: counts, dHidden };
}
