// GPT-2 with int8 matrices: the draft of speculative decoding (speculative.ts). Every linear
// layer and the LM head run as DynamicQuantizeMatMul on int8 weights, a quarter of the bytes a
// float32 decode step reads; LayerNorms and attention stay float32, and the tokens come embedded
// in float32 as for the float32 model (embedding-table.ts). The draft only guesses: the float32
// model checks every guess, so its rounding costs acceptance, never exactness. It is one stage
// (every block and the head): small enough, and one session run per token costs less than several.
import { op, type Graph, type Tensor } from '../onnx/index.ts';
import type { Gpt2Config } from './config.ts';
import { int8InputName, scalesInputName, type DraftWeights } from './draft-weights.ts';
import type { ParamLookup } from './graph.ts';
import type { StageParts } from './stage-graphs.ts';

/**
 * Stage parts whose matrices are the int8 inputs of draft-weights.ts; pair with
 * buildStageGraph(c, draftStage(c), weights.float, int8StageParts(weights)).
 */
export const int8StageParts =
  (weights: DraftWeights) =>
  (g: Graph, _c: Gpt2Config, param: ParamLookup): StageParts => {
    const made = new Map<string, { data: Tensor; scales: Tensor }>();
    const matrix = (name: string) => {
      let m = made.get(name);
      if (!m) {
        const q = weights.int8.get(name);
        if (!q) throw new Error(`the draft has no int8 ${name}`);
        m = { data: g.input(int8InputName(name), 'int8', q.shape), scales: g.input(scalesInputName(name), 'float32', [q.scales.length / 4]) };
        made.set(name, m);
      }
      return m;
    };
    return {
      project: (x, name) => {
        const { data, scales } = matrix(name);
        return op.dynamicQuantizeMatMul(x, data, scales, param(`${name}.bias`));
      },
      head: (rows) => {
        const { data, scales } = matrix('wte');
        return op.dynamicQuantizeMatMul(rows, data, scales);
      },
    };
  };
