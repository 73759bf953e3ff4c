// The int8 draft's weights (draft-graph.ts), read from a checkpoint one tensor at a time and
// quantized as they come. The int8 matrices go into one file that onnxruntime maps, as it maps a
// float32 checkpoint: held in JavaScript and handed over from memory they cost ~3× their size in
// resident memory (GPT-2 small: 375 MB for 127 MB of int8), mapped they cost their packed copy.
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import type { FileRange } from '../onnx/index.ts';
import type { Gpt2Config } from './config.ts';
import { quantizeColumns, quantizeEmbeddingTransposed, type Int8Matrix } from './int8-weights.ts';
import { stageParameterNames, type Gpt2Stage } from './stage-graphs.ts';
import type { WeightSource } from './weight-source.ts';
import type { Gpt2Weights } from './weights.ts';

/** The draft's one stage: every block, with the embeddings and the head. */
export const draftStage = (c: Gpt2Config): Gpt2Stage => ({ from: 0, to: c.nLayer, embeddings: true, head: true });

/** Where one int8 matrix and its per-column scales are in the draft's file. */
export interface MappedInt8Matrix {
  shape: [number, number];
  data: FileRange;
  scales: FileRange;
}

export interface DraftWeights {
  /** Linear layers by name ('h.3.mlp.c_fc'), and 'wte', transposed for the head. */
  int8: Map<string, MappedInt8Matrix>;
  /** Biases, LayerNorms and the position table, as they are. */
  float: Gpt2Weights;
}

const FILE = 'draft-int8.bin';
/** Every range starts on a 64-byte boundary, as SIMD loads from the mapping prefer. */
const ALIGN = 64;

/** Reads `source`, quantizes its matrices and writes them into `folder` (which the caller removes). */
export async function writeDraftWeights(source: WeightSource, folder: string): Promise<DraftWeights> {
  const c = source.config;
  const int8 = new Map<string, MappedInt8Matrix>();
  const float: Gpt2Weights = new Map();
  const fh = await open(join(folder, FILE), 'w');
  let offset = 0;
  const append = async (bytes: Uint8Array): Promise<FileRange> => {
    offset = Math.ceil(offset / ALIGN) * ALIGN;
    await fh.write(bytes, 0, bytes.length, offset);
    const range = { file: FILE, offset, length: bytes.length };
    offset += bytes.length;
    return range;
  };
  const store = async (name: string, q: Int8Matrix) => {
    const data = await append(new Uint8Array(q.data.buffer, q.data.byteOffset, q.data.byteLength));
    const scales = await append(new Uint8Array(q.scales.buffer, q.scales.byteOffset, q.scales.byteLength));
    int8.set(name, { shape: q.shape, data, scales });
  };
  try {
    for (const name of stageParameterNames(draftStage(c))) {
      const t = (await source.read([name])).get(name)!;
      if (name === 'wte.weight') await store('wte', quantizeEmbeddingTransposed(t.data, c.vocabSize, c.nEmbd));
      else if (name.startsWith('h.') && name.endsWith('.weight') && t.shape.length === 2) await store(name.slice(0, -'.weight'.length), quantizeColumns(t.data, t.shape[0], t.shape[1]));
      else float.set(name, t);
    }
  } finally {
    await fh.close();
  }
  return { int8, float };
}

/** The draft's graph inputs read from its file, for serializeGraphExternal's inputsFromFiles. */
export function draftFileInputs(weights: DraftWeights): Map<string, FileRange> {
  const ranges = new Map<string, FileRange>();
  for (const [name, m] of weights.int8) {
    ranges.set(int8InputName(name), m.data);
    ranges.set(scalesInputName(name), m.scales);
  }
  return ranges;
}

export const int8InputName = (name: string) => `${name}.int8`;
export const scalesInputName = (name: string) => `${name}.scales`;
