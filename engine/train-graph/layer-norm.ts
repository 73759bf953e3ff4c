// LayerNorm over the last axis, forward with what its backward needs, and the backward.
//   x̂ = (x − μ)·r,  r = 1/√(var + ε),  y = x̂·γ + β
//   dγ = Σ_rows dy⊙x̂,  dβ = Σ_rows dy,  dx = r·(dx̂ − mean(dx̂) − x̂·mean(dx̂⊙x̂)) with dx̂ = dy⊙γ
// float32 uses onnxruntime's fused LayerNormalization (which also returns μ and r); its CPU kernel
// keeps statistics in float32 only, so float64 graphs (finite-difference tests) spell it out.
import { op, type Tensor } from '../onnx/index.ts';
import type { GradientSink } from './grad-sink.ts';

export interface LayerNormSaved {
  xHat: Tensor;
  invStd: Tensor;
  gamma: Tensor;
  gammaName: string;
  betaName: string;
}

export interface LayerNormParams {
  gamma: Tensor;
  beta: Tensor;
  gammaName: string;
  betaName: string;
  epsilon: number;
}

export function layerNormForward(x: Tensor, p: LayerNormParams): { y: Tensor; saved: LayerNormSaved } {
  let xHat: Tensor;
  let invStd: Tensor;
  let y: Tensor;
  if (x.dtype === 'float32') {
    const r = op.layerNormWithStats(x, p.gamma, p.beta, { axis: -1, epsilon: p.epsilon });
    y = r.y;
    invStd = r.invStdDev;
    xHat = op.mul(op.sub(x, r.mean), invStd);
  } else {
    const centred = op.sub(x, op.reduceMean(x, [-1], true));
    const variance = op.reduceMean(op.mul(centred, centred), [-1], true);
    invStd = op.reciprocal(op.sqrt(op.add(variance, p.epsilon)));
    xHat = op.mul(centred, invStd);
    y = op.add(op.mul(xHat, p.gamma), p.beta);
  }
  return { y, saved: { xHat, invStd, gamma: p.gamma, gammaName: p.gammaName, betaName: p.betaName } };
}

/** Returns dx; hands the per-row parameter gradients to the sink. `dy` and `x` are [N, D]. */
export function layerNormBackward(dy: Tensor, s: LayerNormSaved, sink: GradientSink): Tensor {
  sink.rows(s.gammaName, op.mul(dy, s.xHat));
  sink.rows(s.betaName, dy);
  const dxHat = op.mul(dy, s.gamma);
  const meanDxHat = op.reduceMean(dxHat, [-1], true);
  const meanDxHatXHat = op.reduceMean(op.mul(dxHat, s.xHat), [-1], true);
  return op.mul(op.sub(op.sub(dxHat, meanDxHat), op.mul(s.xHat, meanDxHatXHat)), s.invStd);
}
