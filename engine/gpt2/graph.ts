// GPT-2's forward pass as an ONNX graph, exactly Hugging Face's GPT2LMHeadModel in eval mode:
// pre-LayerNorm blocks, fused q/k/v projection (Conv1D layout), gelu_new, final LayerNorm and an
// LM head tied to the token embedding. The pieces (embeddings, one block, the head) are exported
// so that the per-stage graphs of stage-graphs.ts compute exactly what the whole graph computes.
//
// Inputs: input_ids [B, T] and position_ids [B, T] (int64), attn_bias [B, 1, T, K] (0 where a query
// may attend, a large negative number where not; K = S + T with a cache, T without), and with a
// cache per layer past_key_i and past_value_i [B, H, S, D]. Outputs: logits ([B, V] at the last
// position, or [B, T, V]) and with a cache present_key_i / present_value_i [B, H, T, D] for the
// new tokens only: the caller owns the cache, so nothing proportional to the context is copied
// out per step.
import { Graph, op, type Tensor } from '../onnx/index.ts';
import { headDim, type Gpt2Config } from './config.ts';
import { parameterShapes, type Gpt2Weights } from './weights.ts';

export interface Gpt2GraphOptions {
  /** 'last': logits of the last position only (generation); 'all': every position. */
  logits: 'last' | 'all';
  /** Take past keys/values as inputs and return the new ones. */
  kvCache: boolean;
  /** Bake these weights into the model as initializers; by default weights are graph inputs. */
  weights?: Gpt2Weights;
}

export const cacheInputNames = (layer: number) => ({ key: `past_key_${layer}`, value: `past_value_${layer}` });
export const cacheOutputNames = (layer: number) => ({ key: `present_key_${layer}`, value: `present_value_${layer}` });

/** A GPT-2 parameter by HF name, as a graph tensor (an input, or an initializer when baked). */
export type ParamLookup = (name: string) => Tensor;

/**
 * x · W + b for the linear layer `name` ('h.3.attn.c_attn'): float32 by default; the draft model
 * of speculative decoding swaps in int8 weights (draft-graph.ts).
 */
export type Projection = (x: Tensor, name: string) => Tensor;

export const floatProjection =
  (param: ParamLookup): Projection =>
  (x, name) =>
    op.add(op.matmul(x, param(`${name}.weight`)), param(`${name}.bias`));

/** Parameters become initializers when `weights` holds them, graph inputs otherwise. */
export function parameterLookup(g: Graph, c: Gpt2Config, weights?: Gpt2Weights): ParamLookup {
  const shapes = new Map(parameterShapes(c));
  // A parameter read twice (the tied embedding, by the lookup and the head) is one tensor.
  const made = new Map<string, Tensor>();
  return (name) => {
    const shape = shapes.get(name);
    if (!shape) throw new Error(`no GPT-2 parameter ${name}`);
    let t = made.get(name);
    if (!t) {
      const baked = weights?.get(name);
      t = baked ? g.initializer(name, 'float32', shape, baked.data) : g.input(name, 'float32', shape);
      made.set(name, t);
    }
    return t;
  };
}

export function buildGpt2Graph(c: Gpt2Config, options: Gpt2GraphOptions): Graph {
  const g = new Graph({ name: `gpt2_${options.logits}${options.kvCache ? '_cached' : ''}` });
  const param = parameterLookup(g, c, options.weights);
  const keyLen = options.kvCache ? 'S+T' : 'T';
  const inputIds = g.input('input_ids', 'int64', ['B', 'T']);
  const positionIds = g.input('position_ids', 'int64', ['B', 'T']);
  const attnBias = g.input('attn_bias', 'float32', ['B', 1, 'T', keyLen]);
  const wte = param('wte.weight');
  let x = embeddings(wte, param('wpe.weight'), inputIds, positionIds);
  for (let i = 0; i < c.nLayer; i++) x = gpt2Block(g, c, i, x, attnBias, param, options.kvCache);
  const final = finalNorm(c, x, param);
  if (options.logits === 'last') {
    const last = op.reshape(op.slice(final, { axis: 1, start: -1, end: op.END }), ['B', c.nEmbd]);
    g.output(lmHead(last, wte), 'logits');
  } else {
    const logits = lmHead(op.reshape(final, ['B*T', c.nEmbd]), wte);
    g.output(op.reshape(logits, ['B', 'T', c.vocabSize], [inputIds]), 'logits');
  }
  return g;
}

/** Token plus position embeddings: [B, T, C]. */
export function embeddings(wte: Tensor, wpe: Tensor, inputIds: Tensor, positionIds: Tensor): Tensor {
  return op.add(op.gather(wte, inputIds), op.gather(wpe, positionIds));
}

/** ln_f: the final LayerNorm. */
export function finalNorm(c: Gpt2Config, x: Tensor, param: ParamLookup): Tensor {
  return op.layerNorm(x, param('ln_f.weight'), param('ln_f.bias'), { epsilon: c.layerNormEpsilon });
}

/** The tied LM head on rows [N, C]: Gemm with transB reads wte [V, C] as is; MatMul would need a transposed copy. */
export function lmHead(rows: Tensor, wte: Tensor): Tensor {
  return op.gemm(rows, wte, undefined, { transB: true });
}

/**
 * Transformer block `layer` on x [B, T, C]. With `kvCache`, its past keys/values are graph inputs
 * and the new tokens' keys/values graph outputs (see cachedAttention).
 */
export function gpt2Block(
  g: Graph,
  c: Gpt2Config,
  layer: number,
  x: Tensor,
  attnBias: Tensor,
  param: ParamLookup,
  kvCache: boolean,
  project: Projection = floatProjection(param),
): Tensor {
  const H = c.nHead;
  const D = headDim(c);
  const w = (name: string) => param(`h.${layer}.${name}`);
  const linear = (t: Tensor, name: string) => project(t, `h.${layer}.${name}`);
  return g.scope(`h${layer}`, () => {
    const ln1 = op.layerNorm(x, w('ln_1.weight'), w('ln_1.bias'), { epsilon: c.layerNormEpsilon });
    const qkv = linear(ln1, 'attn.c_attn');
    const [q, k, v] = op.split(qkv, -1, [c.nEmbd, c.nEmbd, c.nEmbd]);
    const heads = (t: Tensor) => op.reshape(t, ['B', 'T', H, D]);
    // Scaling q instead of the scores: one [B,H,T,D] multiply instead of a [B,H,T,K] one.
    const qh = op.mul(op.transpose(heads(q), [0, 2, 1, 3]), 1 / Math.sqrt(D)); // [B, H, T, D]
    const vh = op.transpose(heads(v), [0, 2, 1, 3]); // [B, H, T, D]
    const attended = kvCache
      ? cachedAttention(g, layer, qh, op.transpose(heads(k), [0, 2, 1, 3]), vh, attnBias, H, D)
      : attention(qh, op.transpose(heads(k), [0, 2, 3, 1]), vh, attnBias);
    const merged = op.reshape(op.transpose(attended, [0, 2, 1, 3]), ['B', 'T', c.nEmbd]);
    const h = op.add(x, linear(merged, 'attn.c_proj'));
    const ln2 = op.layerNorm(h, w('ln_2.weight'), w('ln_2.bias'), { epsilon: c.layerNormEpsilon });
    const hidden = op.geluTanh(linear(ln2, 'mlp.c_fc'));
    return op.add(h, linear(hidden, 'mlp.c_proj'));
  });
}

/** softmax(q·kᵀ + bias)·v over the tokens of this call only. */
function attention(q: Tensor, kt: Tensor, v: Tensor, bias: Tensor): Tensor {
  return op.matmul(op.softmax(op.add(op.matmul(q, kt), bias), -1), v);
}

/**
 * Attention over the caller's cache plus the new tokens, without concatenating the cache: scores
 * against past and new keys are computed apart, joined for one softmax (a small [B,H,T,S+T]
 * tensor), split again and applied to past and new values. Keys come as [.., S, D] like values,
 * so the caller writes a new token's key as one contiguous row; q·kᵀ is a MatMul on transposed
 * keys, which onnxruntime fuses into one FusedMatMul (transB) that reads them in place.
 */
function cachedAttention(g: Graph, layer: number, q: Tensor, k: Tensor, v: Tensor, bias: Tensor, H: number, D: number): Tensor {
  const names = cacheInputNames(layer);
  const pastK = g.input(names.key, 'float32', ['B', H, 'S', D]);
  const pastV = g.input(names.value, 'float32', ['B', H, 'S', D]);
  const outNames = cacheOutputNames(layer);
  g.output(k, outNames.key);
  g.output(v, outNames.value);
  const scoresAgainst = (keys: Tensor) => op.matmul(q, op.transpose(keys, [0, 1, 3, 2]));
  const scores = op.concat([scoresAgainst(pastK), scoresAgainst(k)], -1); // [B, H, T, S+T]
  const probs = op.softmax(op.add(scores, bias), -1);
  const pastLen = op.slice(op.shapeOf(pastK), { axis: 0, start: 2, end: 3 }); // [S]
  const probsPast = op.sliceDynamic(probs, g.int64s([0]), pastLen, [3], ['B', H, 'T', 'S']);
  const probsNew = op.sliceDynamic(probs, pastLen, g.int64s([op.END]), [3], ['B', H, 'T', 'T']);
  return op.add(op.matmul(probsPast, pastV), op.matmul(probsNew, v));
}
