// Central finite differences against a graph's hand-written gradients, in float64: for each
// differentiable input, a random direction v, and (L(x+εv) − L(x−εv)) / 2ε against ⟨∇L, v⟩.
import ort from 'onnxruntime-node';
import { Graph, serializeGraph, type Tensor } from '../../engine/onnx/index.ts';

/** A seeded generator for test data (tests only; engine code never uses ad-hoc randomness). */
export function seededRandom(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function gaussians(rand: () => number, n: number, std = 1, mean = 0): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = mean + std * Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  return out;
}

export interface FdInput {
  name: string;
  shape: number[];
  data: Float64Array | BigInt64Array;
  /** Checked by finite differences (float64 inputs only). */
  differentiable: boolean;
}

/** Builds the graph: returns the scalar loss and the gradient tensors of the differentiable inputs. */
export type FdBuild = (g: Graph, inputs: Map<string, Tensor>) => { loss: Tensor; grads: Map<string, Tensor> };

export interface FdReport {
  name: string;
  analytic: number;
  numeric: number;
  relativeError: number;
}

const feedsOf = (inputs: readonly FdInput[], override?: { name: string; data: Float64Array }): Record<string, ort.Tensor> =>
  Object.fromEntries(inputs.map((i) => {
    const data = override && override.name === i.name ? override.data : i.data;
    return [i.name, new ort.Tensor(data instanceof BigInt64Array ? 'int64' : 'float64', data, i.shape)];
  }));

/** One directional check per differentiable input of a graph built by `build`; callers assert on the reports. */
export async function finiteDifferenceCheck(inputs: readonly FdInput[], build: FdBuild, options: FdOptions = {}): Promise<FdReport[]> {
  const g = new Graph({ name: 'fd' });
  const tensors = new Map(inputs.map((i) => [i.name, g.input(i.name, i.data instanceof BigInt64Array ? 'int64' : 'float64', i.shape)] as const));
  const { loss, grads } = build(g, tensors);
  g.output(loss, 'loss');
  for (const i of inputs.filter((x) => x.differentiable)) {
    const grad = grads.get(i.name);
    if (!grad) throw new Error(`build gave no gradient for ${i.name}`);
    g.output(grad, `grad:${i.name}`);
  }
  const scalar = (out: ort.InferenceSession.ReturnType) => (out.loss.data as Float64Array)[0];
  return finiteDifferenceOnModel(serializeGraph(g), inputs, scalar, (name) => `grad:${name}`, options);
}

export interface FdOptions {
  seed?: number;
  epsilon?: number;
}

/** The same check on a serialized model whose loss is `lossOf(outputs)` and whose gradients are outputs. */
export async function finiteDifferenceOnModel(
  model: Uint8Array,
  inputs: readonly FdInput[],
  lossOf: (out: ort.InferenceSession.ReturnType) => number,
  gradOutput: (inputName: string) => string,
  options: FdOptions = {},
): Promise<FdReport[]> {
  const session = await ort.InferenceSession.create(model);
  const base = await session.run(feedsOf(inputs));
  const rand = seededRandom(options.seed ?? 1);
  const eps = options.epsilon ?? 1e-5;
  const reports: FdReport[] = [];
  for (const input of inputs.filter((x) => x.differentiable)) {
    const x = input.data as Float64Array;
    const v = gaussians(rand, x.length);
    const grad = base[gradOutput(input.name)].data as Float64Array;
    let analytic = 0;
    for (let k = 0; k < x.length; k++) analytic += grad[k] * v[k];
    const shifted = async (sign: number) => lossOf(await session.run(feedsOf(inputs, { name: input.name, data: Float64Array.from(x, (xk, k) => xk + sign * eps * v[k]) })));
    const numeric = ((await shifted(1)) - (await shifted(-1))) / (2 * eps);
    const relativeError = Math.abs(analytic - numeric) / Math.max(Math.abs(analytic), Math.abs(numeric), 1e-8);
    reports.push({ name: input.name, analytic, numeric, relativeError });
  }
  await session.release();
  return reports;
}
