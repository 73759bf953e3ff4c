// The whole GPT-2 training step as one ONNX graph: forward (keeping what the backward needs),
// loss, backward, and — in private mode — per-example norms, clip factors and the clipped sum.
// One session.run per micro-batch returns every parameter's gradient sum.
//
// Inputs:  every parameter under its Hugging Face name (graph inputs, not initializers, so the
//          optimizer updates them in place and the session is reused), input_ids [B, T] int64,
//          attention_mask [B, T] int64 (1 = token, 0 = padding), and in private mode clip_norm [].
// Outputs: grad.<name> for each parameter, example_loss [B], example_targets [B], and in private
//          mode example_grad_norm [B] (the norms before clipping).
// With `lora`, the adapters (engine/lora) are more inputs, the base parameters are frozen: grad.<name>
// only for the adapters, norms and clipping over the adapters only, no gradient formed for the base.
import { adapterSlots, adapterShapes, loraScale, type LoraSpec } from '../lora/adapters.ts';
import { parameterShapes } from '../gpt2/weights.ts';
import type { Gpt2Config } from '../gpt2/config.ts';
import { Graph, op, type Tensor } from '../onnx/index.ts';
import { attentionMaskBias } from './attention.ts';
import { blockBackward, blockForward, layerNormParams, type BlockSaved } from './block.ts';
import { BookKeepingSink } from './clipping-sink.ts';
import type { GhostPolicy } from './ghost-norms.ts';
import { SummingSink, type BatchDims, type GradientSink } from './grad-sink.ts';
import { layerNormBackward, layerNormForward } from './layer-norm.ts';
import type { LoraAdapter } from './linear.ts';
import { lmLossForwardBackward, type ExampleLoss } from './lm-loss.ts';
import { pruneDeadNodes } from './lora-prune.ts';
import { TrainableOnlySink } from './lora-trainable-sink.ts';

export type GradientMode = 'clipped' | 'sum';

export interface TrainStepGraphOptions {
  /** Tokens per example (rows are padded to it). */
  seqLen: number;
  /** 'clipped': Σ_i clip(g_i) by book-keeping (DP-SGD); 'sum': Σ_i g_i (non-private). */
  mode: GradientMode;
  /** Per-example loss: sum (default, engine/train's contract) or mean over the example's target tokens. */
  exampleLoss?: ExampleLoss;
  dtype?: 'float32' | 'float64';
  ghost?: GhostPolicy;
  /** DP-LoRA: adapters on these projections, the base model frozen. */
  lora?: LoraSpec;
}

/** The parameters a graph takes as inputs and the ones it returns gradients for, in order. */
export function trainStepParameters(config: Gpt2Config, lora?: LoraSpec): { inputs: [string, number[]][]; trainable: string[] } {
  const base = parameterShapes(config);
  if (!lora) return { inputs: base, trainable: base.map(([name]) => name) };
  const adapters = adapterShapes(config, lora);
  return { inputs: [...base, ...adapters], trainable: adapters.map(([name]) => name) };
}

export const trainGraphNames = {
  inputIds: 'input_ids',
  attentionMask: 'attention_mask',
  clipNorm: 'clip_norm',
  exampleLoss: 'example_loss',
  exampleTargets: 'example_targets',
  exampleGradNorm: 'example_grad_norm',
  grad: (param: string): string => `grad.${param}`,
};

export function buildTrainStepGraph(config: Gpt2Config, options: TrainStepGraphOptions): Graph {
  const { seqLen: T, mode } = options;
  const dtype = options.dtype ?? 'float32';
  if (T < 2 || T > config.nPositions) throw new Error(`seqLen ${T} must be in [2, ${config.nPositions}]`);
  const g = new Graph({ name: `gpt2-train-${mode}`, opset: 18 });
  const { inputs, trainable } = trainStepParameters(config, options.lora);
  const params = new Map<string, Tensor>();
  for (const [name, shape] of inputs) params.set(name, g.input(name, dtype, shape));
  const p = (name: string): Tensor => {
    const t = params.get(name);
    if (!t) throw new Error(`no parameter ${name}`);
    return t;
  };
  const dims: BatchDims = { B: 'B', T };
  const N = `${T}*B`;
  const ids = g.input(trainGraphNames.inputIds, 'int64', ['B', T]);
  const attentionMask = g.input(trainGraphNames.attentionMask, 'int64', ['B', T]);
  const reducer: GradientSink = mode === 'clipped'
    ? new BookKeepingSink(dims, { clipNorm: g.input(trainGraphNames.clipNorm, dtype, []), ghost: options.ghost })
    : new SummingSink(dims);
  const sink = options.lora ? new TrainableOnlySink(reducer, new Set(trainable)) : reducer;
  const adapters = new Map<string, LoraAdapter>();
  if (options.lora) {
    const scale = loraScale(options.lora);
    for (const s of adapterSlots(config, options.lora)) {
      adapters.set(`h.${s.layer}.${s.target}.`, { a: p(s.aName), b: p(s.bName), aName: s.aName, bName: s.bName, scale });
    }
  }
  const lora = options.lora ? (prefix: string) => adapters.get(prefix) : undefined;

  // Forward.
  const positions = op.slice(p('wpe.weight'), { axis: 0, start: 0, end: T });
  const embedded = op.add(op.gather(p('wte.weight'), ids), positions); // [B, T, D]
  let x = op.reshape(embedded, [N, config.nEmbd]);
  const maskBias = attentionMaskBias(attentionMask, dims, dtype);
  const saved: BlockSaved[] = [];
  for (let l = 0; l < config.nLayer; l++) {
    const block = g.scope(`h${l}`, () => blockForward(x, p, { prefix: `h.${l}.`, nHead: config.nHead, epsilon: config.layerNormEpsilon, lora }, maskBias, dims));
    x = block.y;
    saved.push(block.saved);
  }
  const lnF = layerNormForward(x, layerNormParams(p, 'ln_f.', config.layerNormEpsilon));

  // Loss and backward, last layer first.
  const loss = g.scope('loss', () =>
    lmLossForwardBackward({ hidden: lnF.y, wte: p('wte.weight'), wteName: 'wte.weight', ids, attentionMask, exampleLoss: options.exampleLoss ?? 'sum' }, dims, sink),
  );
  let dx = layerNormBackward(loss.dHidden, lnF.saved, sink);
  for (let l = config.nLayer - 1; l >= 0; l--) {
    const dy = dx;
    dx = g.scope(`h${l}_grad`, () => blockBackward(dy, saved[l], dims, sink));
  }
  sink.positions('wpe.weight', dx, config.nPositions);
  sink.tokenInput('wte.weight', ids, dx);

  const { grads, exampleNorms } = g.scope('clip', () => sink.finish());
  for (const name of trainable) {
    const grad = grads.get(name);
    if (!grad) throw new Error(`the backward pass produced no gradient for ${name}`);
    g.output(grad, trainGraphNames.grad(name));
  }
  g.output(loss.exampleLoss, trainGraphNames.exampleLoss);
  g.output(loss.exampleTargets, trainGraphNames.exampleTargets);
  if (exampleNorms) g.output(exampleNorms, trainGraphNames.exampleGradNorm);
  if (options.lora) pruneDeadNodes(g);
  return g;
}
