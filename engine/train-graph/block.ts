// One GPT-2 transformer block (pre-LayerNorm), forward keeping what the backward needs, and backward:
//   x₁ = x + c_proj(attn(c_attn(ln_1(x)))),  x₂ = x₁ + mlp.c_proj(gelu(c_fc(ln_2(x₁))))
import { op, type Tensor } from '../onnx/index.ts';
import { attentionBackward, attentionForward, type AttentionSaved } from './attention.ts';
import { geluBackward, geluForward, type GeluSaved } from './gelu.ts';
import type { BatchDims, GradientSink } from './grad-sink.ts';
import { layerNormBackward, layerNormForward, type LayerNormParams, type LayerNormSaved } from './layer-norm.ts';
import { linearBackward, linearForward, type LinearParams, type LoraAdapter } from './linear.ts';

/** Looks up a parameter's graph tensor by its Hugging Face name ('h.0.attn.c_attn.weight'). */
export type ParamLookup = (name: string) => Tensor;

export interface BlockSpec {
  prefix: string; // 'h.3.'
  nHead: number;
  epsilon: number;
  /** The LoRA adapter on a projection ('h.3.attn.c_attn.'), if it has one. */
  lora?: (projectionPrefix: string) => LoraAdapter | undefined;
}

export function layerNormParams(p: ParamLookup, prefix: string, epsilon: number): LayerNormParams {
  return { gamma: p(`${prefix}weight`), beta: p(`${prefix}bias`), gammaName: `${prefix}weight`, betaName: `${prefix}bias`, epsilon };
}

function linearParams(p: ParamLookup, prefix: string, spec: BlockSpec): LinearParams {
  const lora = spec.lora?.(prefix);
  return { weight: p(`${prefix}weight`), bias: p(`${prefix}bias`), weightName: `${prefix}weight`, biasName: `${prefix}bias`, ...(lora ? { lora } : {}) };
}

interface BlockParams {
  ln1: LayerNormParams;
  cAttn: LinearParams;
  cProj: LinearParams;
  ln2: LayerNormParams;
  cFc: LinearParams;
  mlpProj: LinearParams;
}

function blockParams(p: ParamLookup, s: BlockSpec): BlockParams {
  return {
    ln1: layerNormParams(p, `${s.prefix}ln_1.`, s.epsilon),
    cAttn: linearParams(p, `${s.prefix}attn.c_attn.`, s),
    cProj: linearParams(p, `${s.prefix}attn.c_proj.`, s),
    ln2: layerNormParams(p, `${s.prefix}ln_2.`, s.epsilon),
    cFc: linearParams(p, `${s.prefix}mlp.c_fc.`, s),
    mlpProj: linearParams(p, `${s.prefix}mlp.c_proj.`, s),
  };
}

export interface BlockSaved {
  params: BlockParams;
  ln1: LayerNormSaved;
  ln1Out: Tensor;
  attention: AttentionSaved;
  merged: Tensor;
  ln2: LayerNormSaved;
  ln2Out: Tensor;
  gelu: GeluSaved;
  geluOut: Tensor;
}

export function blockForward(x: Tensor, p: ParamLookup, spec: BlockSpec, maskBias: Tensor, dims: BatchDims): { y: Tensor; saved: BlockSaved } {
  const params = blockParams(p, spec);
  const ln1 = layerNormForward(x, params.ln1);
  const attention = attentionForward(linearForward(ln1.y, params.cAttn), maskBias, dims, spec.nHead);
  const x1 = op.add(x, linearForward(attention.merged, params.cProj));
  const ln2 = layerNormForward(x1, params.ln2);
  const fcOut = linearForward(ln2.y, params.cFc);
  const gelu = geluForward(fcOut);
  const y = op.add(x1, linearForward(gelu.u, params.mlpProj));
  const saved: BlockSaved = {
    params, ln1: ln1.saved, ln1Out: ln1.y, attention: attention.saved, merged: attention.merged,
    ln2: ln2.saved, ln2Out: ln2.y, gelu: gelu.saved, geluOut: gelu.u,
  };
  return { y, saved };
}

/** dy [N, D] → dx [N, D]; parameter gradients go to the sink. */
export function blockBackward(dy: Tensor, s: BlockSaved, dims: BatchDims, sink: GradientSink): Tensor {
  const dGelu = linearBackward(s.geluOut, dy, s.params.mlpProj, sink);
  const dFc = geluBackward(dGelu, s.gelu);
  const dLn2 = linearBackward(s.ln2Out, dFc, s.params.cFc, sink);
  const dx1 = op.add(dy, layerNormBackward(dLn2, s.ln2, sink));
  const dMerged = linearBackward(s.merged, dx1, s.params.cProj, sink);
  const dQkv = attentionBackward(dMerged, s.attention, dims);
  const dLn1 = linearBackward(s.ln1Out, dQkv, s.params.cAttn, sink);
  return op.add(dx1, layerNormBackward(dLn1, s.ln1, sink));
}
