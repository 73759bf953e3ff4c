// Hugging Face's Conv1D (y = a·W + b with W stored [in, out]) on row-flattened activations [N, in],
// optionally with a LoRA adapter: y = a·W + b + s·(a·A)·B, A [in, r], B [r, out].
import { op, type Tensor } from '../onnx/index.ts';
import type { GradientSink } from './grad-sink.ts';

export interface LoraAdapter {
  a: Tensor;
  b: Tensor;
  aName: string;
  bName: string;
  /** alpha / r. */
  scale: number;
}

export interface LinearParams {
  weight: Tensor;
  bias: Tensor;
  weightName: string;
  biasName: string;
  lora?: LoraAdapter;
}

/** a·A [N, r]: the adapter's low-rank activations (recomputed in the backward, a small matmul). */
const lowRank = (a: Tensor, lora: LoraAdapter): Tensor => op.gemm(a, lora.a);

export function linearForward(a: Tensor, p: LinearParams): Tensor {
  const y = op.gemm(a, p.weight, p.bias);
  if (!p.lora) return y;
  return op.add(y, op.gemm(lowRank(a, p.lora), p.lora.b, undefined, { alpha: p.lora.scale }));
}

/**
 * Returns da = g·Wᵀ (+ s·(g·Bᵀ)·Aᵀ); the parameter gradients go to the sink (which keeps a and g if
 * it clips). An adapter's two gradients are themselves linear-layer gradients:
 *   gA = aᵀ·(s·g·Bᵀ)   (input a, output gradient s·g·Bᵀ [N, r]),
 *   gB = (s·a·A)ᵀ·g    (input s·a·A [N, r], output gradient g),
 * so the sink's per-example norms (ghost or explicit) and clipped sums apply to them unchanged.
 */
export function linearBackward(a: Tensor, g: Tensor, p: LinearParams, sink: GradientSink): Tensor {
  sink.linear(p.weightName, p.biasName, a, g);
  const da = op.gemm(g, p.weight, undefined, { transB: true });
  if (!p.lora) return da;
  const { lora } = p;
  const gLow = op.gemm(g, lora.b, undefined, { transB: true, alpha: lora.scale }); // s·g·Bᵀ [N, r]
  sink.linear(lora.aName, undefined, a, gLow);
  sink.linear(lora.bName, undefined, op.mul(lowRank(a, lora), lora.scale), g);
  return op.add(da, op.gemm(gLow, lora.a, undefined, { transB: true }));
}
