// GPT-2's tanh-approximated GELU ("gelu_new") and its derivative.
//   u = ½f(1 + tanh z),  z = k(f + 0.044715 f³),  k = √(2/π)
//   du/df = ½(1 + tanh z) + ½f(1 − tanh² z)·k(1 + 3·0.044715 f²)
import { op, type Tensor } from '../onnx/index.ts';

const K = Math.sqrt(2 / Math.PI);
const A = 0.044715;

export function geluForward(f: Tensor): { u: Tensor; tanhZ: Tensor } {
  const f2 = op.mul(f, f);
  const z = op.mul(op.mul(f, op.add(op.mul(f2, A), 1)), K);
  const tanhZ = op.tanh(z);
  const u = op.mul(op.mul(f, 0.5), op.add(tanhZ, 1));
  return { u, tanhZ };
}

export function geluBackward(du: Tensor, f: Tensor, tanhZ: Tensor): Tensor {
  const half = op.mul(op.add(tanhZ, 1), 0.5);
  const sech2 = op.sub(1, op.mul(tanhZ, tanhZ));
  const dz = op.mul(op.add(op.mul(op.mul(f, f), 3 * A), 1), 0.5 * K);
  return op.mul(du, op.add(half, op.mul(op.mul(f, sech2), dz)));
}
