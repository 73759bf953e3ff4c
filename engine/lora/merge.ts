// Folding LoRA adapters into the base weights: W' = W + s·A·B for every adapted projection, so a
// DP-LoRA model becomes a plain GPT-2 (generation, the audit, transformers) with the same outputs.
import type { Gpt2Weights } from '../gpt2/weights.ts';
import type { Gpt2Config } from '../gpt2/config.ts';
import { adapterSlots, loraScale, type AdapterWeights, type LoraSpec } from './adapters.ts';

/** The merged weights: a new map; adapted projections get new arrays, every other tensor is shared with `base`. */
export function mergeLora(config: Gpt2Config, base: Gpt2Weights, spec: LoraSpec, adapters: AdapterWeights): Gpt2Weights {
  const merged: Gpt2Weights = new Map(base);
  const s = loraScale(spec);
  const r = spec.rank;
  for (const slot of adapterSlots(config, spec)) {
    const name = `h.${slot.layer}.${slot.target}.weight`;
    const w = base.get(name);
    const a = adapters.get(slot.aName)?.data;
    const b = adapters.get(slot.bName)?.data;
    if (!w || !a || !b) throw new Error(`mergeLora: missing ${!w ? name : !a ? slot.aName : slot.bName}`);
    const out = Float32Array.from(w.data);
    const { inDim, outDim } = slot;
    const row = new Float64Array(outDim);
    for (let i = 0; i < inDim; i++) {
      row.fill(0);
      for (let k = 0; k < r; k++) {
        const aik = a[i * r + k];
        if (aik === 0) continue;
        const bk = k * outDim;
        for (let j = 0; j < outDim; j++) row[j] += aik * b[bk + j];
      }
      const o = i * outDim;
      for (let j = 0; j < outDim; j++) out[o + j] += s * row[j];
    }
    merged.set(name, { shape: w.shape, data: out });
  }
  return merged;
}
