// Loads the PEFT reference of test/fixtures/gpt2-lora (made by its make_fixture.py): the LoRA spec,
// the adapter PEFT saved, the batch, and the per-example-loop statistics and gradients.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LoraSpec } from '../../engine/lora/adapters.ts';

const root = new URL('../../', import.meta.url).pathname;
export const loraFixtureDir = join(root, 'test/fixtures/gpt2-lora');
export const peftAdapterDir = join(loraFixtureDir, 'adapter');

export interface LoraLayoutEntry {
  name: string;
  shape: number[];
  offset: number;
  length: number;
}

export interface LoraFixture {
  lora: LoraSpec;
  seqLen: number;
  inputIds: number[][];
  attentionMask: number[][];
  exampleLosses: number[];
  exampleGradNorms: number[];
  clipNorm: number;
  clipFactors: number[];
  layout: Record<'sum' | 'clipped', LoraLayoutEntry[]>;
  values: Float32Array;
  /** Logits at each row's last token (the vocabulary's first entries), adapted and merged. */
  lastLogits: number[][];
  mergedLastLogits: number[][];
}

export function loadLoraFixture(): LoraFixture {
  const json = JSON.parse(readFileSync(join(loraFixtureDir, 'expected.json'), 'utf8')) as Record<string, unknown>;
  const bin = readFileSync(join(loraFixtureDir, 'expected.bin'));
  return {
    lora: json.lora as LoraSpec,
    seqLen: json.seq_len as number,
    inputIds: json.input_ids as number[][],
    attentionMask: json.attention_mask as number[][],
    exampleLosses: json.example_losses as number[],
    exampleGradNorms: json.example_grad_norms as number[],
    clipNorm: json.clip_norm as number,
    clipFactors: json.clip_factors as number[],
    layout: json.layout as LoraFixture['layout'],
    values: new Float32Array(bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength)),
    lastLogits: json.last_logits as number[][],
    mergedLastLogits: json.merged_last_logits as number[][],
  };
}
