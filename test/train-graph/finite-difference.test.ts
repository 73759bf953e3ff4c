// Finite-difference checks (float64) of every hand-written backward: LayerNorm, GELU, the
// Conv1D linear, causal attention with padding, a whole transformer block, the tied LM head with
// the masked loss, and a whole small GPT-2 (embeddings included), parameter by parameter.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Gpt2Config } from '../../engine/gpt2/config.ts';
import { parameterShapes } from '../../engine/gpt2/weights.ts';
import { op, serializeGraph, type Tensor } from '../../engine/onnx/index.ts';
import { attentionBackward, attentionForward, attentionMaskBias } from '../../engine/train-graph/attention.ts';
import { blockBackward, blockForward } from '../../engine/train-graph/block.ts';
import { geluBackward, geluForward } from '../../engine/train-graph/gelu.ts';
import { SummingSink, type BatchDims } from '../../engine/train-graph/grad-sink.ts';
import { layerNormBackward, layerNormForward } from '../../engine/train-graph/layer-norm.ts';
import { linearBackward, linearForward } from '../../engine/train-graph/linear.ts';
import { lmLossForwardBackward } from '../../engine/train-graph/lm-loss.ts';
import { buildTrainStepGraph, trainGraphNames } from '../../engine/train-graph/train-step-graph.ts';
import { finiteDifferenceCheck, finiteDifferenceOnModel, gaussians, seededRandom, type FdInput, type FdReport } from './finite-difference.ts';

const dims: BatchDims = { B: 2, T: 4 };
const N = 8;
const rand = seededRandom(42);
const floats = (name: string, shape: number[], std = 1, mean = 0, differentiable = true): FdInput =>
  ({ name, shape, data: gaussians(rand, shape.reduce((a, b) => a * b, 1), std, mean), differentiable });
const ints = (name: string, shape: number[], values: number[]): FdInput => ({ name, shape, data: BigInt64Array.from(values, BigInt), differentiable: false });
// Example 1 is right-padded: its last token is padding.
const mask = ints('mask', [2, 4], [1, 1, 1, 1, 1, 1, 1, 0]);

function assertAgree(reports: FdReport[], tolerance = 1e-6): void {
  assert.ok(reports.length > 0);
  for (const r of reports) {
    assert.ok(r.relativeError <= tolerance, `${r.name}: analytic ${r.analytic} vs numeric ${r.numeric} (relative error ${r.relativeError.toExponential(2)})`);
    assert.ok(Math.abs(r.analytic) > 1e-6, `${r.name}: a vanishing directional derivative proves nothing`);
  }
}

/** Loss Σ r⊙y with a fixed random r, so that dL/dy = r. */
const weighted = (y: Tensor, r: Tensor) => op.reduceSum(op.mul(y, r), [0, 1]);

void test('LayerNorm backward', async () => {
  const inputs = [floats('x', [N, 6], 2, 0.5), floats('gamma', [6], 0.3, 1), floats('beta', [6]), floats('r', [N, 6], 1, 0, false)];
  assertAgree(await finiteDifferenceCheck(inputs, (_g, t) => {
    const sink = new SummingSink(dims);
    const ln = layerNormForward(t.get('x')!, { gamma: t.get('gamma')!, beta: t.get('beta')!, gammaName: 'gamma', betaName: 'beta', epsilon: 1e-5 });
    const dx = layerNormBackward(t.get('r')!, ln.saved, sink);
    return { loss: weighted(ln.y, t.get('r')!), grads: new Map([...sink.finish().grads, ['x', dx]]) };
  }));
});

void test('GELU (gelu_new) backward', async () => {
  const inputs = [floats('f', [N, 5], 2), floats('r', [N, 5], 1, 0, false)];
  assertAgree(await finiteDifferenceCheck(inputs, (_g, t) => {
    const { u, saved } = geluForward(t.get('f')!);
    return { loss: weighted(u, t.get('r')!), grads: new Map([['f', geluBackward(t.get('r')!, saved)]]) };
  }));
});

void test('Conv1D linear backward', async () => {
  const inputs = [floats('a', [N, 5]), floats('W', [5, 7]), floats('b', [7]), floats('r', [N, 7], 1, 0, false)];
  assertAgree(await finiteDifferenceCheck(inputs, (_g, t) => {
    const sink = new SummingSink(dims);
    const p = { weight: t.get('W')!, bias: t.get('b')!, weightName: 'W', biasName: 'b' };
    const y = linearForward(t.get('a')!, p);
    const da = linearBackward(t.get('a')!, t.get('r')!, p, sink);
    return { loss: weighted(y, t.get('r')!), grads: new Map([...sink.finish().grads, ['a', da]]) };
  }));
});

void test('causal multi-head attention backward, with a padded key', async () => {
  const inputs = [floats('qkv', [N, 3 * 8]), mask, floats('r', [N, 8], 1, 0, false)];
  assertAgree(await finiteDifferenceCheck(inputs, (_g, t) => {
    const bias = attentionMaskBias(t.get('mask')!, dims, 'float64');
    const { merged, saved } = attentionForward(t.get('qkv')!, bias, dims, 2);
    return { loss: weighted(merged, t.get('r')!), grads: new Map([['qkv', attentionBackward(t.get('r')!, saved, dims)]]) };
  }));
});

const D = 8;
function blockInputs(prefix: string): FdInput[] {
  return [
    floats(`${prefix}ln_1.weight`, [D], 0.3, 1), floats(`${prefix}ln_1.bias`, [D], 0.3),
    floats(`${prefix}attn.c_attn.weight`, [D, 3 * D], 0.4), floats(`${prefix}attn.c_attn.bias`, [3 * D], 0.3),
    floats(`${prefix}attn.c_proj.weight`, [D, D], 0.4), floats(`${prefix}attn.c_proj.bias`, [D], 0.3),
    floats(`${prefix}ln_2.weight`, [D], 0.3, 1), floats(`${prefix}ln_2.bias`, [D], 0.3),
    floats(`${prefix}mlp.c_fc.weight`, [D, 4 * D], 0.4), floats(`${prefix}mlp.c_fc.bias`, [4 * D], 0.3),
    floats(`${prefix}mlp.c_proj.weight`, [4 * D, D], 0.3), floats(`${prefix}mlp.c_proj.bias`, [D], 0.3),
  ];
}

void test('transformer block backward (every parameter and the input)', async () => {
  const inputs = [floats('x', [N, D]), mask, floats('r', [N, D], 1, 0, false), ...blockInputs('h.0.')];
  assertAgree(await finiteDifferenceCheck(inputs, (_g, t) => {
    const sink = new SummingSink(dims);
    const bias = attentionMaskBias(t.get('mask')!, dims, 'float64');
    const { y, saved } = blockForward(t.get('x')!, (n) => t.get(n)!, { prefix: 'h.0.', nHead: 2, epsilon: 1e-5 }, bias, dims);
    const dx = blockBackward(t.get('r')!, saved, dims, sink);
    return { loss: weighted(y, t.get('r')!), grads: new Map([...sink.finish().grads, ['x', dx]]) };
  }));
});

for (const exampleLoss of ['sum', 'mean'] as const) void test(`tied LM head and masked per-example ${exampleLoss} loss backward`, async () => {
  // Repeated tokens, and padding that holds a real id: the mask alone must silence it.
  const ids = ints('ids', [2, 4], [3, 5, 3, 3, 7, 7, 2, 5]);
  const inputs = [floats('hidden', [N, D]), floats('wte', [11, D]), ids, mask];
  assertAgree(await finiteDifferenceCheck(inputs, (_g, t) => {
    const sink = new SummingSink(dims);
    const r = lmLossForwardBackward({ hidden: t.get('hidden')!, wte: t.get('wte')!, wteName: 'wte', ids: t.get('ids')!, attentionMask: t.get('mask')!, exampleLoss }, dims, sink);
    sink.tokenInput('wte', t.get('ids')!, op.mul(t.get('hidden')!, 0)); // no input use here: the head part alone
    return { loss: op.reduceSum(r.exampleLoss, [0]), grads: new Map([...sink.finish().grads, ['hidden', r.dHidden]]) };
  }));
});

void test('whole small GPT-2: every parameter, embeddings included', async () => {
  const config: Gpt2Config = { vocabSize: 13, nPositions: 9, nEmbd: D, nLayer: 2, nHead: 2, layerNormEpsilon: 1e-5, bosTokenId: 0, eosTokenId: 0 };
  const T = 6;
  const model = serializeGraph(buildTrainStepGraph(config, { seqLen: T, mode: 'sum', dtype: 'float64' }));
  const params = parameterShapes(config).map(([name, shape]) => {
    const isScale = /ln_\w+\.weight$/.test(name);
    return floats(name, shape, isScale ? 0.3 : 0.4, isScale ? 1 : 0);
  });
  const inputs = [
    ...params,
    ints(trainGraphNames.inputIds, [3, T], [4, 9, 4, 4, 1, 9, /**/ 2, 2, 8, 2, 0, 0, /**/ 5, 6, 5, 5, 5, 5]),
    ints(trainGraphNames.attentionMask, [3, T], [1, 1, 1, 1, 1, 1, /**/ 1, 1, 1, 1, 0, 0, /**/ 1, 1, 1, 0, 0, 0]),
  ];
  const lossOf = (out: Record<string, { data: unknown }>) => (out[trainGraphNames.exampleLoss].data as Float64Array).reduce((a, b) => a + b, 0);
  assertAgree(await finiteDifferenceOnModel(model, inputs, lossOf, trainGraphNames.grad));
});
