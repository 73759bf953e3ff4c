// Hugging Face's Conv1D (y = a·W + b with W stored [in, out]) on row-flattened activations [N, in].
import { op, type Tensor } from '../onnx/index.ts';
import type { GradientSink } from './grad-sink.ts';

export interface LinearParams {
  weight: Tensor;
  bias: Tensor;
  weightName: string;
  biasName: string;
}

export const linearForward = (a: Tensor, p: LinearParams): Tensor => op.gemm(a, p.weight, p.bias);

/** Returns da = g·Wᵀ; the weight and bias gradients go to the sink (which keeps a and g if it clips). */
export function linearBackward(a: Tensor, g: Tensor, p: LinearParams, sink: GradientSink): Tensor {
  sink.linear(p.weightName, p.biasName, a, g);
  return op.gemm(g, p.weight, undefined, { transB: true });
}
