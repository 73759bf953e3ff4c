// LoRA adapters on GPT-2's Conv1D projections (Hu et al. 2021): y = x·W + b + s·(x·A)·B with
// A [in, r], B [r, out] and s = alpha / r; the base W is frozen and only A and B are trained.
// Veil keeps A and B in the Conv1D layout of the base weight (inputs first); PEFT's nn.Linear
// layout (lora_A.weight [r, in], lora_B.weight [out, r]) is their transpose (peft-export.ts).
import type { Gpt2Config } from '../gpt2/config.ts';
import { SecureStream } from '../random/secure-stream.ts';

/** The projections an adapter can sit on, by their name inside a block. */
export const LORA_TARGETS = ['attn.c_attn', 'attn.c_proj', 'mlp.c_fc', 'mlp.c_proj'] as const;
export type LoraTarget = (typeof LORA_TARGETS)[number];

export interface LoraSpec {
  rank: number;
  alpha: number;
  targets: readonly LoraTarget[];
}

/** PEFT's defaults for GPT-2 (its target map names c_attn only); Veil adds c_proj of attention. */
export const DEFAULT_LORA_TARGETS: readonly LoraTarget[] = ['attn.c_attn', 'attn.c_proj'];

export const loraScale = (spec: LoraSpec): number => spec.alpha / spec.rank;

export function checkLoraSpec(spec: LoraSpec): void {
  if (!Number.isInteger(spec.rank) || spec.rank < 1) throw new RangeError(`LoRA rank must be a positive integer, got ${spec.rank}`);
  if (!(spec.alpha > 0)) throw new RangeError(`LoRA alpha must be positive, got ${spec.alpha}`);
  if (spec.targets.length === 0) throw new RangeError('LoRA needs at least one target projection');
  for (const t of spec.targets) if (!LORA_TARGETS.includes(t)) throw new RangeError(`unknown LoRA target ${t} (known: ${LORA_TARGETS.join(', ')})`);
  if (new Set(spec.targets).size !== spec.targets.length) throw new RangeError('LoRA targets are listed twice');
}

/** The base projection's [in, out] (its Conv1D weight shape). */
export function projectionShape(c: Gpt2Config, target: LoraTarget): [number, number] {
  const C = c.nEmbd;
  switch (target) {
    case 'attn.c_attn': return [C, 3 * C];
    case 'attn.c_proj': return [C, C];
    case 'mlp.c_fc': return [C, 4 * C];
    case 'mlp.c_proj': return [4 * C, C];
  }
}

export const loraAName = (layer: number, target: LoraTarget): string => `h.${layer}.${target}.lora_A`;
export const loraBName = (layer: number, target: LoraTarget): string => `h.${layer}.${target}.lora_B`;

export interface AdapterSlot {
  layer: number;
  target: LoraTarget;
  aName: string;
  bName: string;
  inDim: number;
  outDim: number;
}

/** Every adapter of the model, layer by layer in LORA_TARGETS order (the parameter order of training). */
export function adapterSlots(c: Gpt2Config, spec: LoraSpec): AdapterSlot[] {
  checkLoraSpec(spec);
  const slots: AdapterSlot[] = [];
  for (let layer = 0; layer < c.nLayer; layer++) {
    for (const target of LORA_TARGETS) {
      if (!spec.targets.includes(target)) continue;
      const [inDim, outDim] = projectionShape(c, target);
      slots.push({ layer, target, aName: loraAName(layer, target), bName: loraBName(layer, target), inDim, outDim });
    }
  }
  return slots;
}

/** [name, shape] of every adapter tensor, A then B per slot. */
export function adapterShapes(c: Gpt2Config, spec: LoraSpec): [string, number[]][] {
  return adapterSlots(c, spec).flatMap((s): [string, number[]][] => [[s.aName, [s.inDim, spec.rank]], [s.bName, [spec.rank, s.outDim]]]);
}

export function adapterParameterCount(c: Gpt2Config, spec: LoraSpec): number {
  return adapterShapes(c, spec).reduce((n, [, s]) => n + s[0] * s[1], 0);
}

export type AdapterWeights = Map<string, { shape: number[]; data: Float32Array }>;

/**
 * PEFT's default initialisation: A ~ U(−1/√in, 1/√in) (kaiming_uniform with a = √5 on a weight
 * of fan-in `in`), B = 0, so training starts from the base model exactly. A is drawn from the
 * keyed ChaCha20 stream, like every other initialisation in Veil.
 */
export function initAdapters(c: Gpt2Config, spec: LoraSpec, seed: string | number | bigint): AdapterWeights {
  const rng = SecureStream.fromSeed(seed, 'lora-init');
  const out: AdapterWeights = new Map();
  for (const s of adapterSlots(c, spec)) {
    const a = new Float32Array(s.inDim * spec.rank);
    rng.fillUniform(a);
    const bound = 1 / Math.sqrt(s.inDim);
    for (let i = 0; i < a.length; i++) a[i] = (2 * a[i] - 1) * bound;
    out.set(s.aName, { shape: [s.inDim, spec.rank], data: a });
    out.set(s.bName, { shape: [spec.rank, s.outDim], data: new Float32Array(spec.rank * s.outDim) });
  }
  return out;
}
