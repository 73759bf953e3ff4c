// GPT-2 cut into stages, one ONNX graph each: consecutive transformer blocks, the last one also
// applying the final LayerNorm and the LM head (the tokens are embedded before the first stage).
// Each stage bakes only its own weights, so a model can be brought into onnxruntime one stage at
// a time: onnxruntime pre-packs a stage's matrices (the fast layout for its MatMul/Gemm kernels)
// and the stage's raw weights are dropped before the next stage is read, so memory stays near one
// packed copy of the model. Fewer, larger stages cost fewer session runs per token; the stage
// size bounds how much raw weight is held at once.
//
// Stage I/O: hidden [B, T, C] (for the first stage the embedded tokens, which embedding-table.ts
// computes outside the graph); attn_bias [B, 1, T, S+T]; past_key_i and past_value_i [B, H, S, D]
// for each of its layers → present_key_i, present_value_i (see graph.ts) and hidden_out
// [B, T, C], or, in the last stage, logits [N, V] of the rows of the flattened [B*T, C] hidden
// states named by head_rows [N], and greedy [N], each row's first largest logit (ArgMax, first
// index on ties as torch.argmax).
import { Graph, op, type Tensor } from '../onnx/index.ts';
import type { Gpt2Config } from './config.ts';
import { finalNorm, floatProjection, gpt2Block, lmHead, parameterLookup, type ParamLookup, type Projection } from './graph.ts';
import type { Gpt2Weights } from './weights.ts';

export interface Gpt2Stage {
  /** Blocks [from, to). */
  from: number;
  to: number;
  head: boolean;
}

/** Raw block weights per stage: 3 GPT-2-small blocks, 1 block of the larger sizes, every block of tiny models. */
const STAGE_BYTES = 96 * 2 ** 20;

/** The stages in execution order. */
export function gpt2Stages(c: Gpt2Config, maxStageBytes = STAGE_BYTES): Gpt2Stage[] {
  const blockBytes = 4 * (12 * c.nEmbd * c.nEmbd + 13 * c.nEmbd);
  const perStage = Math.max(1, Math.floor(maxStageBytes / blockBytes));
  const stages: Gpt2Stage[] = [];
  for (let from = 0; from < c.nLayer; from += perStage) {
    stages.push({ from, to: Math.min(c.nLayer, from + perStage), head: from + perStage >= c.nLayer });
  }
  return stages;
}

/** The HF parameter names a stage reads. */
export function stageParameterNames(stage: Gpt2Stage): string[] {
  const names: string[] = [];
  for (let layer = stage.from; layer < stage.to; layer++) {
    const p = `h.${layer}.`;
    names.push(`${p}ln_1.weight`, `${p}ln_1.bias`, `${p}attn.c_attn.weight`, `${p}attn.c_attn.bias`, `${p}attn.c_proj.weight`, `${p}attn.c_proj.bias`);
    names.push(`${p}ln_2.weight`, `${p}ln_2.bias`, `${p}mlp.c_fc.weight`, `${p}mlp.c_fc.bias`, `${p}mlp.c_proj.weight`, `${p}mlp.c_proj.bias`);
  }
  if (stage.head) names.push('ln_f.weight', 'ln_f.bias', 'wte.weight');
  return names;
}

/** How a stage projects inside blocks and scores the vocabulary. */
export interface StageParts {
  project: Projection;
  /** Logits [N, V] of final-normed rows [N, C]. */
  head(rows: Tensor): Tensor;
}

/** The float32 model: exactly Hugging Face's GPT-2. */
export const floatStageParts = (g: Graph, c: Gpt2Config, param: ParamLookup): StageParts => ({
  project: floatProjection(param),
  head: (rows) => lmHead(rows, param('wte.weight')),
});

/**
 * One stage's graph; `weights` it holds are baked in as initializers, the others are inputs.
 * `parts` replaces the float32 linear algebra (the int8 draft of draft-graph.ts).
 */
export function buildStageGraph(c: Gpt2Config, stage: Gpt2Stage, weights?: Gpt2Weights, parts = floatStageParts): Graph {
  const g = new Graph({ name: `gpt2_blocks_${stage.from}_${stage.to}` });
  const param = parameterLookup(g, c, weights);
  const { project, head } = parts(g, c, param);
  let x = g.input('hidden', 'float32', ['B', 'T', c.nEmbd]);
  const bias = g.input('attn_bias', 'float32', ['B', 1, 'T', 'S+T']);
  for (let layer = stage.from; layer < stage.to; layer++) x = gpt2Block(g, c, layer, x, bias, param, true, project);
  if (!stage.head) {
    g.output(x, 'hidden_out');
    return g;
  }
  const rows = op.gather(op.reshape(x, ['B*T', c.nEmbd]), g.input('head_rows', 'int64', ['N']));
  const logits = head(finalNorm(c, rows, param));
  g.output(logits, 'logits');
  // Greedy decoding fetches only this: B ids instead of B × V logits copied out and scanned in JS.
  g.output(op.argMax(logits, 1), 'greedy');
  return g;
}
