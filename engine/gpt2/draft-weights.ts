// The int8 draft's weights (draft-graph.ts), read from a checkpoint a slice of rows at a time and
// quantized as they come. The int8 matrices go into one file that onnxruntime maps, as it maps a
// float32 checkpoint: held in JavaScript and handed over from memory they cost ~3× their size in
// resident memory (GPT-2 small: 375 MB for 127 MB of int8), mapped they cost their packed copy.
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import type { FileRange } from '../onnx/index.ts';
import { startModuleWorker } from '../threads/module-worker.ts';
import type { Gpt2Config } from './config.ts';
import { emptyHead, quantizeEmbeddingRows, quantizeRows, scalesOf, trackColumnMagnitudes, type Int8Matrix } from './int8-weights.ts';
import { stageParameterNames, type Gpt2Stage } from './stage-graphs.ts';
import type { WeightSource } from './weight-source.ts';
import { parameterShapes, type Gpt2Weights } from './weights.ts';

/** The draft's one stage: every block, and the head. */
export const draftStage = (c: Gpt2Config): Gpt2Stage => ({ from: 0, to: c.nLayer, head: true });

/** Where one int8 matrix and its per-column scales are in the draft's file. */
export interface MappedInt8Matrix {
  shape: [number, number];
  data: FileRange;
  scales: FileRange;
}

export interface DraftWeights {
  /** Linear layers by name ('h.3.mlp.c_fc') and 'wte' transposed for the head, per-column scales. */
  int8: Map<string, MappedInt8Matrix>;
  /** Biases and LayerNorms, as they are. */
  float: Gpt2Weights;
}

const FILE = 'draft-int8.bin';
/** Every range starts on a 64-byte boundary, as SIMD loads from the mapping prefer. */
const ALIGN = 64;
/** Float32 rows read at a time from a checkpoint file. */
const SLICE_BYTES = 4 * 2 ** 20;

const QUANTIZE_WORKER = new URL('./draft-quantize-worker.ts', import.meta.url).href;

/**
 * writeDraftWeights, in a worker thread when the weights come from a checkpoint folder: what it
 * reads then never lands on this thread's heap (see draft-quantize-worker.ts), nor does the work
 * block this thread. Weights already in memory are quantized here.
 */
export async function quantizeDraft(source: WeightSource, folder: string): Promise<DraftWeights> {
  if (!source.dir) return writeDraftWeights(source, folder);
  const worker = startModuleWorker(QUANTIZE_WORKER, { workerData: { dir: source.dir, folder } satisfies QuantizeRequest });
  try {
    const reply = await new Promise<QuantizeReply>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`the draft's quantizing thread exited (${code}) without an answer`)));
    });
    if ('error' in reply) throw new Error(`quantizing the draft failed: ${reply.error}`);
    return { int8: new Map(reply.int8), float: new Map(reply.floats.map((f) => [f.name, { shape: f.shape, data: f.data }])) };
  } finally {
    await worker.terminate();
  }
}

/** What the quantizing thread is given: the checkpoint folder and the folder to write into. */
export interface QuantizeRequest {
  dir: string;
  folder: string;
}

type QuantizeReply = { error: string } | { int8: [string, MappedInt8Matrix][]; floats: { name: string; shape: number[]; data: Float32Array }[] };

/** Reads `source`, quantizes its matrices and writes them into `folder` (which the caller removes). */
export async function writeDraftWeights(source: WeightSource, folder: string): Promise<DraftWeights> {
  const c = source.config;
  const int8 = new Map<string, MappedInt8Matrix>();
  const float: Gpt2Weights = new Map();
  const floatNames: string[] = [];
  const fh = await open(join(folder, FILE), 'w');
  const shapes = new Map(parameterShapes(c));
  // One slice buffer and its int8 copy for every matrix: nothing read stays behind as garbage.
  const buffer = new Float32Array(SLICE_BYTES / 4);
  const quantized = new Int8Array(buffer.length);
  let end = 0;
  /** The next `length` bytes of the file, from an aligned offset. */
  const reserve = (length: number): FileRange => {
    const offset = Math.ceil(end / ALIGN) * ALIGN;
    end = offset + length;
    return { file: FILE, offset, length };
  };
  const append = async (bytes: Uint8Array): Promise<FileRange> => {
    const range = reserve(bytes.length);
    await fh.write(bytes, 0, bytes.length, range.offset);
    return range;
  };
  const store = async (name: string, q: Int8Matrix) => {
    const data = await append(bytesOf(q.data));
    int8.set(name, { shape: q.shape, data, scales: await append(bytesOf(q.scales)) });
  };
  try {
    for (const name of stageParameterNames(draftStage(c))) {
      if (name === 'wte.weight') {
        const head = emptyHead(c.vocabSize, c.nEmbd);
        for await (const { first, rows } of rowSlices(source, name, c.nEmbd, buffer)) quantizeEmbeddingRows(rows, first, head);
        await store('wte', head);
        continue;
      }
      const shape = shapes.get(name)!;
      if (name.startsWith('h.') && name.endsWith('.weight') && shape.length === 2) {
        // Two passes over the rows: a column's scale depends on all of them.
        const [K, N] = shape;
        const largest = new Float32Array(N);
        for await (const { rows } of rowSlices(source, name, N, buffer)) trackColumnMagnitudes(largest, rows);
        const columnScales = scalesOf(largest);
        const data = reserve(K * N);
        for await (const { first, rows } of rowSlices(source, name, N, buffer)) {
          const out = quantized.subarray(0, rows.length);
          quantizeRows(rows, columnScales, out);
          await fh.write(out, 0, out.length, data.offset + first * N);
        }
        int8.set(name.slice(0, -'.weight'.length), { shape: [K, N], data, scales: await append(bytesOf(columnScales)) });
      } else floatNames.push(name);
    }
    // The biases and LayerNorms in one read (a read parses the file's header).
    for (const [name, t] of await source.read(floatNames)) float.set(name, t);
  } finally {
    await fh.close();
  }
  return { int8, float };
}

/**
 * A [rows, width] parameter a slice of rows at a time, read from its float32 file range into one
 * buffer (the embedding is 154 MB of float32 in GPT-2 small), or whole when it is not a float32 file.
 */
async function* rowSlices(source: WeightSource, name: string, width: number, buffer: Float32Array): AsyncGenerator<{ first: number; rows: Float32Array }> {
  const range = source.files?.locate(name);
  if (!range) {
    yield { first: 0, rows: (await source.read([name])).get(name)!.data };
    return;
  }
  const rowCount = range.length / 4 / width;
  const perSlice = Math.floor(buffer.length / width);
  const fh = await open(join(source.files!.folder, range.file), 'r');
  try {
    for (let first = 0; first < rowCount; first += perSlice) {
      const n = Math.min(perSlice, rowCount - first);
      const bytes = new Uint8Array(buffer.buffer, 0, n * width * 4);
      const { bytesRead } = await fh.read(bytes, 0, bytes.length, range.offset + first * width * 4);
      if (bytesRead !== bytes.length) throw new Error(`${name}: the checkpoint file ended early`);
      yield { first, rows: buffer.subarray(0, n * width) };
    }
  } finally {
    await fh.close();
  }
}

const bytesOf = (a: Int8Array | Float32Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

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
