// Causal multi-head self-attention between GPT-2's two attention linears: qkv [N, 3D] → merged
// heads [N, D], and its backward. With P = softmax(q̃kᵀ + mask), q̃ = q/√Dh, o = P·v:
//   dv = Pᵀ·do,  dP = do·vᵀ,  dS = P⊙(dP − rowsum(dP⊙P)),  dq = dS·k/√Dh,  dk = dSᵀ·q̃
// Masked entries get −1e9 before the softmax, so their probability is exactly 0 and so is their
// gradient; a row with no visible key (only in padding) attends uniformly and gets no gradient.
import { op, type Tensor } from '../onnx/index.ts';
import type { BatchDims } from './grad-sink.ts';
import { swapLast } from './ops.ts';

export interface AttentionSaved {
  qScaled: Tensor;
  k: Tensor;
  v: Tensor;
  probs: Tensor;
}

/** Additive mask [B, 1, T, T]: 0 where query t may see key s (s ≤ t and s is not padding), −1e9 elsewhere. */
export function attentionMaskBias(attentionMask: Tensor, dims: BatchDims, dtype: 'float32' | 'float64'): Tensor {
  const g = attentionMask.graph;
  const T = dims.T;
  const causal = g.constant('bool', [T, T], Array.from({ length: T * T }, (_, i) => (i % T <= Math.floor(i / T) ? 1 : 0)));
  const keyVisible = op.unsqueeze(op.cast(attentionMask, 'bool'), [1, 2]); // [B, 1, 1, T]
  return op.where(op.and(causal, keyVisible), g.scalar(0, dtype), g.scalar(-1e9, dtype));
}

function splitHeads(qkv: Tensor, dims: BatchDims, nHead: number): Tensor[] {
  const D3 = qkv.shape[1] as number;
  const Dh = D3 / 3 / nHead;
  const x = op.reshape(qkv, [dims.B, dims.T, 3, nHead, Dh]);
  const parts = op.split(op.transpose(x, [2, 0, 3, 1, 4]), 0, [1, 1, 1]); // 3 × [1, B, H, T, Dh]
  return parts.map((p) => op.squeeze(p, [0]));
}

function mergeHeads(x: Tensor, rows: Tensor['shape'][number]): Tensor {
  const [, H, , Dh] = x.shape as [unknown, number, unknown, number];
  return op.reshape(op.transpose(x, [0, 2, 1, 3]), [rows, H * Dh]);
}

export function attentionForward(qkv: Tensor, maskBias: Tensor, dims: BatchDims, nHead: number): { merged: Tensor; saved: AttentionSaved } {
  const [q, k, v] = splitHeads(qkv, dims, nHead);
  const Dh = q.shape[3] as number;
  const qScaled = op.mul(q, 1 / Math.sqrt(Dh));
  const probs = op.softmax(op.add(op.matmul(qScaled, swapLast(k)), maskBias), -1);
  const merged = mergeHeads(op.matmul(probs, v), qkv.shape[0]);
  return { merged, saved: { qScaled, k, v, probs } };
}

/** dMerged [N, D] → dqkv [N, 3D]. */
export function attentionBackward(dMerged: Tensor, s: AttentionSaved, dims: BatchDims): Tensor {
  const [, H, , Dh] = s.k.shape as [unknown, number, unknown, number];
  const dOut = op.transpose(op.reshape(dMerged, [dims.B, dims.T, H, Dh]), [0, 2, 1, 3]); // [B, H, T, Dh]
  const dv = op.matmul(swapLast(s.probs), dOut);
  const dProbs = op.matmul(dOut, swapLast(s.v));
  const rowDot = op.reduceSum(op.mul(dProbs, s.probs), [-1], true);
  const dScores = op.mul(s.probs, op.sub(dProbs, rowDot));
  const dq = op.mul(op.matmul(dScores, s.k), 1 / Math.sqrt(Dh));
  const dk = op.matmul(swapLast(dScores), s.qScaled);
  const stacked = op.concat([dq, dk, dv].map((t) => op.unsqueeze(t, [0])), 0); // [3, B, H, T, Dh]
  return op.reshape(op.transpose(stacked, [1, 3, 0, 2, 4]), [dMerged.shape[0], 3 * H * Dh]);
}
