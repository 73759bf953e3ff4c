// GPT-2's tanh-approximated GELU ("gelu_new") and its derivative, in the sigmoid form that needs
// the fewest elementwise passes (onnxruntime does not fuse elementwise chains on CPU, and these
// run over the widest activations, [N, 4D]):
//   ½f(1 + tanh z) = f·σ(2z),  2z = f·(2k + 2k·0.044715·f²),  k = √(2/π)
//   du/df = σ(2z) + f·σ(2z)(1 − σ(2z))·(2k + 6k·0.044715·f²)
import { op, type Tensor } from '../onnx/index.ts';

const K2 = 2 * Math.sqrt(2 / Math.PI);
const A = 0.044715;

export interface GeluSaved {
  f: Tensor;
  fSquared: Tensor;
  sigma: Tensor;
}

export function geluForward(f: Tensor): { u: Tensor; saved: GeluSaved } {
  const fSquared = op.mul(f, f);
  const sigma = op.sigmoid(op.mul(f, op.add(op.mul(fSquared, K2 * A), K2)));
  return { u: op.mul(f, sigma), saved: { f, fSquared, sigma } };
}

export function geluBackward(du: Tensor, s: GeluSaved): Tensor {
  const slope = op.add(op.mul(s.fSquared, 3 * K2 * A), K2); // d(2z)/df
  const sigmaPrime = op.sub(s.sigma, op.mul(s.sigma, s.sigma)); // σ(1 − σ)
  return op.mul(du, op.add(s.sigma, op.mul(op.mul(s.f, slope), sigmaPrime)));
}
