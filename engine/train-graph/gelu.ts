// GPT-2's tanh-approximated GELU ("gelu_new") and its derivative, in the sigmoid form that needs
// the fewest elementwise passes (onnxruntime does not fuse elementwise chains on CPU, and these
// run over the widest activations, [N, 4D]):
//   ½f(1 + tanh z) = f·σ(2z),  2z = f·t,  t = 2k + 2k·0.044715·f²,  k = √(2/π)
//   du/df = σ(2z) + f·σ(2z)(1 − σ(2z))·(2k + 6k·0.044715·f²) = σ + (u − u·σ)·(3t − 4k)
// The forward pass computes the derivative while f, t and σ are at hand and keeps only it for the
// backward pass (one [N, 4D] tensor per layer instead of three), which is then one product.
import { op, type Tensor } from '../onnx/index.ts';

const K2 = 2 * Math.sqrt(2 / Math.PI);
const A = 0.044715;

export interface GeluSaved {
  /** du/df at the forward input. */
  derivative: Tensor;
}

export function geluForward(f: Tensor): { u: Tensor; saved: GeluSaved } {
  const t = op.add(op.mul(op.mul(f, f), K2 * A), K2); // 2z = f·t; d(2z)/df = 3t − 2·K2
  const sigma = op.sigmoid(op.mul(f, t));
  const u = op.mul(f, sigma);
  const slope = op.sub(op.mul(t, 3), 2 * K2);
  const derivative = op.add(sigma, op.mul(op.sub(u, op.mul(u, sigma)), slope));
  return { u, saved: { derivative } };
}

export function geluBackward(du: Tensor, s: GeluSaved): Tensor {
  return op.mul(du, s.derivative);
}
