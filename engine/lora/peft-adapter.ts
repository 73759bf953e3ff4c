// LoRA adapters in PEFT's files, so Python's `peft` loads Veil's adapters onto the Hugging Face base
// unchanged (PeftModel.from_pretrained) and Veil reads PEFT's:
//   adapter_config.json         peft_type LORA, r, lora_alpha, target_modules, fan_in_fan_out
//   adapter_model.safetensors   base_model.model.transformer.h.<l>.<target>.lora_A.weight [r, in]
//                               and …lora_B.weight [out, r] (nn.Linear layout: Veil's A and B transposed)
// GPT-2's projections are Conv1D (weights stored [in, out]), hence PEFT's fan_in_fan_out = true.
import { readFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readSafetensors, writeSafetensors } from '../gpt2/safetensors.ts';
import { adapterSlots, checkLoraSpec, LORA_TARGETS, type AdapterWeights, type LoraSpec, type LoraTarget } from './adapters.ts';
import type { Gpt2Config } from '../gpt2/config.ts';

export const PEFT_CONFIG_FILE = 'adapter_config.json';
export const PEFT_WEIGHTS_FILE = 'adapter_model.safetensors';

const peftKey = (veilName: string): string => `base_model.model.transformer.${veilName}.weight`;

/** [rows, cols] row-major → its transpose. */
function transpose(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[j * rows + i] = data[i * cols + j];
  return out;
}

/** PEFT's adapter_config.json for a GPT-2 LoRA (the fields PEFT reads; the rest take its defaults). */
export function peftConfig(spec: LoraSpec, baseModel: string): Record<string, unknown> {
  return {
    peft_type: 'LORA',
    task_type: 'CAUSAL_LM',
    base_model_name_or_path: baseModel,
    r: spec.rank,
    lora_alpha: spec.alpha,
    lora_dropout: 0,
    target_modules: [...spec.targets],
    fan_in_fan_out: true,
    bias: 'none',
    inference_mode: true,
    init_lora_weights: true,
    use_rslora: false,
    use_dora: false,
    modules_to_save: null,
  };
}

export async function writePeftAdapter(dir: string, config: Gpt2Config, spec: LoraSpec, weights: AdapterWeights, baseModel: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  const tensors: [string, { shape: number[]; data: Float32Array }][] = [];
  for (const s of adapterSlots(config, spec)) {
    const a = weights.get(s.aName);
    const b = weights.get(s.bName);
    if (!a || !b) throw new Error(`adapter weights lack ${a ? s.bName : s.aName}`);
    tensors.push([peftKey(s.aName), { shape: [spec.rank, s.inDim], data: transpose(a.data, s.inDim, spec.rank) }]);
    tensors.push([peftKey(s.bName), { shape: [s.outDim, spec.rank], data: transpose(b.data, spec.rank, s.outDim) }]);
  }
  await writeSafetensors(join(dir, PEFT_WEIGHTS_FILE), tensors);
  await writeFile(join(dir, PEFT_CONFIG_FILE), `${JSON.stringify(peftConfig(spec, baseModel), null, 2)}\n`);
}

/** The LoRA spec a PEFT adapter_config.json describes; refuses what Veil does not train (DoRA, rsLoRA, per-layer ranks…). */
export function specFromPeftConfig(json: Record<string, unknown>): LoraSpec {
  if (json.peft_type !== 'LORA') throw new Error(`not a LoRA adapter (peft_type ${String(json.peft_type)})`);
  for (const flag of ['use_dora', 'use_rslora']) if (json[flag]) throw new Error(`adapter uses ${flag}: not supported`);
  for (const pattern of ['rank_pattern', 'alpha_pattern']) {
    if (json[pattern] && Object.keys(json[pattern] as object).length > 0) throw new Error(`adapter has a ${pattern}: not supported`);
  }
  if (json.fan_in_fan_out !== true) throw new Error('a GPT-2 adapter must have fan_in_fan_out = true (Conv1D weights)');
  const modules = json.target_modules;
  if (!Array.isArray(modules)) throw new Error('adapter_config.json: target_modules must be a list of projections');
  const targets = modules.map((m: unknown) => {
    const hit = LORA_TARGETS.find((t) => t === m);
    if (!hit) throw new Error(`adapter target ${String(m)}: Veil knows ${LORA_TARGETS.join(', ')}`);
    return hit;
  });
  const ordered: LoraTarget[] = LORA_TARGETS.filter((t) => targets.includes(t));
  const spec: LoraSpec = { rank: Number(json.r), alpha: Number(json.lora_alpha), targets: ordered };
  checkLoraSpec(spec);
  return spec;
}

export async function readPeftAdapter(dir: string, config: Gpt2Config): Promise<{ spec: LoraSpec; weights: AdapterWeights; baseModel?: string }> {
  const json = JSON.parse(await readFile(join(dir, PEFT_CONFIG_FILE), 'utf8')) as Record<string, unknown>;
  const spec = specFromPeftConfig(json);
  const slots = adapterSlots(config, spec);
  const file = await readSafetensors(join(dir, PEFT_WEIGHTS_FILE), slots.flatMap((s) => [peftKey(s.aName), peftKey(s.bName)]));
  const weights: AdapterWeights = new Map();
  for (const s of slots) {
    const a = file.get(peftKey(s.aName))!;
    const b = file.get(peftKey(s.bName))!;
    if (a.shape.join() !== `${spec.rank},${s.inDim}`) throw new Error(`${peftKey(s.aName)}: shape [${a.shape}], expected [${spec.rank}, ${s.inDim}]`);
    if (b.shape.join() !== `${s.outDim},${spec.rank}`) throw new Error(`${peftKey(s.bName)}: shape [${b.shape}], expected [${s.outDim}, ${spec.rank}]`);
    weights.set(s.aName, { shape: [s.inDim, spec.rank], data: transpose(a.data, spec.rank, s.inDim) });
    weights.set(s.bName, { shape: [spec.rank, s.outDim], data: transpose(b.data, s.outDim, spec.rank) });
  }
  return { spec, weights, baseModel: typeof json.base_model_name_or_path === 'string' ? json.base_model_name_or_path : undefined };
}
