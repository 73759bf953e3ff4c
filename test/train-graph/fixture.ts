// Loads the PyTorch reference of test/fixtures/gpt2-train (made by its make_fixture.py) and the
// tiny golden model it was computed on.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadCheckpoint, type Gpt2Checkpoint } from '../../engine/gpt2/checkpoint.ts';
import type { TokenBatch } from '../../engine/train-graph/index.ts';

const root = new URL('../../', import.meta.url).pathname;
const fixtureDir = join(root, 'test/fixtures/gpt2-train');

export interface LayoutEntry {
  name: string;
  shape: number[];
  offset: number;
  length: number;
  rows?: number[];
  frobenius?: number;
}

export interface TrainFixture {
  seqLen: number;
  inputIds: number[][];
  attentionMask: number[][];
  exampleLosses: number[];
  exampleGradNorms: number[];
  /** The same statistics under the per-example-mean loss. */
  meanLoss: { exampleLosses: number[]; exampleGradNorms: number[] };
  clipNorm: number;
  clipFactors: number[];
  layout: Record<'sum' | 'clipped', LayoutEntry[]>;
  values: Float32Array;
}

export function loadTrainFixture(): TrainFixture {
  const json = JSON.parse(readFileSync(join(fixtureDir, 'expected.json'), 'utf8')) as Record<string, unknown>;
  const bin = readFileSync(join(fixtureDir, 'expected.bin'));
  const values = new Float32Array(bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength));
  return {
    seqLen: json.seq_len as number,
    inputIds: json.input_ids as number[][],
    attentionMask: json.attention_mask as number[][],
    exampleLosses: json.example_losses as number[],
    exampleGradNorms: json.example_grad_norms as number[],
    meanLoss: (({ example_losses, example_grad_norms }) => ({ exampleLosses: example_losses, exampleGradNorms: example_grad_norms }))(
      json.mean_loss as { example_losses: number[]; example_grad_norms: number[] },
    ),
    clipNorm: json.clip_norm as number,
    clipFactors: json.clip_factors as number[],
    layout: json.layout as TrainFixture['layout'],
    values,
  };
}

/** The tiny model of test/fixtures/gpt2 (VEIL_TINY_GPT2 may point elsewhere). */
export async function loadTinyModel(): Promise<Gpt2Checkpoint> {
  return loadCheckpoint(process.env.VEIL_TINY_GPT2 ?? join(root, 'test/fixtures/gpt2/tiny'));
}

export function tokenBatch(ids: number[][], mask: number[][]): TokenBatch {
  return {
    batchSize: ids.length,
    inputIds: BigInt64Array.from(ids.flat(), (v) => BigInt(v)),
    attentionMask: BigInt64Array.from(mask.flat(), (v) => BigInt(v)),
  };
}

/** The stored part of a full gradient tensor (all of it, or the listed rows). */
export function storedPart(grad: ArrayLike<number>, entry: LayoutEntry): Float64Array {
  const out = new Float64Array(entry.length);
  if (!entry.rows) {
    for (let i = 0; i < entry.length; i++) out[i] = grad[i];
    return out;
  }
  const width = entry.shape.slice(1).reduce((a, b) => a * b, 1);
  entry.rows.forEach((row, r) => {
    for (let j = 0; j < width; j++) out[r * width + j] = grad[row * width + j];
  });
  return out;
}

/** max |a − b| / max |b|: the error relative to the tensor's scale. */
export function relativeMaxError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    diff = Math.max(diff, Math.abs(actual[i] - expected[i]));
    scale = Math.max(scale, Math.abs(expected[i]));
  }
  return scale === 0 ? diff : diff / scale;
}
