// GPT-2 cut into stages, one ONNX graph each: the embeddings, every transformer block, and the
// final LayerNorm with the LM head. Each stage bakes only its own weights, so a model can be
// brought into onnxruntime one stage at a time: onnxruntime pre-packs a stage's matrices (the
// fast layout for its MatMul/Gemm kernels) and the stage's raw weights can be dropped before the
// next stage is read, so peak memory stays near one packed copy of the model.
//
// Stage I/O: embeddings: input_ids, position_ids [B, T] → hidden [B, T, C]. Block i: hidden
// [B, T, C], attn_bias [B, 1, T, S+T], past_key_i [B, H, D, S], past_value_i [B, H, S, D] →
// hidden_out [B, T, C], present_key_i, present_value_i (see graph.ts). Head: hidden rows [N, C]
// → logits [N, V].
import { Graph } from '../onnx/index.ts';
import type { Gpt2Config } from './config.ts';
import { embeddings, finalNorm, gpt2Block, lmHead, parameterLookup } from './graph.ts';
import type { Gpt2Weights } from './weights.ts';

export type Gpt2Stage = { kind: 'embeddings' } | { kind: 'block'; layer: number } | { kind: 'head' };

/** Every stage in execution order. */
export function gpt2Stages(c: Gpt2Config): Gpt2Stage[] {
  return [{ kind: 'embeddings' }, ...Array.from({ length: c.nLayer }, (_, layer): Gpt2Stage => ({ kind: 'block', layer })), { kind: 'head' }];
}

/** The HF parameter names a stage reads. */
export function stageParameterNames(stage: Gpt2Stage): string[] {
  switch (stage.kind) {
    case 'embeddings':
      return ['wte.weight', 'wpe.weight'];
    case 'head':
      return ['ln_f.weight', 'ln_f.bias', 'wte.weight'];
    case 'block': {
      const p = `h.${stage.layer}.`;
      const names = ['ln_1.weight', 'ln_1.bias', 'attn.c_attn.weight', 'attn.c_attn.bias', 'attn.c_proj.weight', 'attn.c_proj.bias'];
      names.push('ln_2.weight', 'ln_2.bias', 'mlp.c_fc.weight', 'mlp.c_fc.bias', 'mlp.c_proj.weight', 'mlp.c_proj.bias');
      return names.map((n) => p + n);
    }
  }
}

export function stageName(stage: Gpt2Stage): string {
  return stage.kind === 'block' ? `block_${stage.layer}` : stage.kind;
}

/** One stage's graph; `weights` (when given) are baked in as initializers, else they are inputs. */
export function buildStageGraph(c: Gpt2Config, stage: Gpt2Stage, weights?: Gpt2Weights): Graph {
  const g = new Graph({ name: `gpt2_${stageName(stage)}` });
  const param = parameterLookup(g, c, weights);
  switch (stage.kind) {
    case 'embeddings': {
      const ids = g.input('input_ids', 'int64', ['B', 'T']);
      const positions = g.input('position_ids', 'int64', ['B', 'T']);
      g.output(embeddings(param('wte.weight'), param('wpe.weight'), ids, positions), 'hidden');
      break;
    }
    case 'block': {
      const x = g.input('hidden', 'float32', ['B', 'T', c.nEmbd]);
      const bias = g.input('attn_bias', 'float32', ['B', 1, 'T', 'S+T']);
      g.output(gpt2Block(g, c, stage.layer, x, bias, param, true), 'hidden_out');
      break;
    }
    case 'head': {
      const rows = g.input('hidden', 'float32', ['N', c.nEmbd]);
      const final = finalNorm(c, rows, param);
      g.output(lmHead(final, param('wte.weight')), 'logits');
      break;
    }
  }
  return g;
}
