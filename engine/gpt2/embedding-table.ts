// GPT-2's input embedding, wte[id] + wpe[position], computed here instead of in the first stage's
// graph. A decode step needs one row of the 154 MB token table per prompt, and the graph's Gather
// read it from onnxruntime's mapping of the checkpoint file: each lookup faulted in the kernel's
// readahead around its row, so a 64 + 100-token generation kept ~60 MB of that mapping resident.
// Rows read with pread land in the page cache instead, which is not the process's memory, and the
// sum is the graph's bit for bit (float32 Gather and Add; see embed()).
import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import type { Gpt2Config } from './config.ts';
import type { WeightSource } from './weight-source.ts';

/** Where the token rows come from: float32 [V, C] in memory, or a float32 range of a file. */
type TokenRows = { kind: 'memory'; data: Float32Array } | { kind: 'file'; path: string; offset: number };

export class EmbeddingTable {
  private file: Promise<FileHandle> | undefined;

  private constructor(
    private readonly config: Gpt2Config,
    private readonly positions: Float32Array,
    private readonly tokens: TokenRows,
  ) {}

  /**
   * The position table is read whole (3 MB in GPT-2 small); the token table stays in its float32
   * file range when it has one, and is otherwise read whole (weights in memory are not copied).
   */
  static async open(source: WeightSource): Promise<EmbeddingTable> {
    const c = source.config;
    const positions = (await source.read(['wpe.weight'])).get('wpe.weight')!.data;
    const range = source.files?.locate('wte.weight');
    if (range) {
      if (range.length !== 4 * c.vocabSize * c.nEmbd) throw new Error(`wte.weight spans ${range.length} bytes, expected ${4 * c.vocabSize * c.nEmbd}`);
      return new EmbeddingTable(c, positions, { kind: 'file', path: join(source.files!.folder, range.file), offset: range.offset });
    }
    return new EmbeddingTable(c, positions, { kind: 'memory', data: (await source.read(['wte.weight'])).get('wte.weight')!.data });
  }

  /**
   * hidden [B, T, C] for int64 ids and positions [B, T]: fround(wte[id] + wpe[position]), the
   * float32 sum onnxruntime's Add computes (a sum of two floats rounded once from float64 is the
   * correctly rounded float32 sum).
   */
  async embed(ids: ort.Tensor, positions: ort.Tensor): Promise<ort.Tensor> {
    const { vocabSize: V, nPositions: P, nEmbd: C } = this.config;
    const [B, T] = ids.dims;
    const idData = ids.data as BigInt64Array;
    const positionData = positions.data as BigInt64Array;
    const hidden = new Float32Array(B * T * C);
    for (let i = 0; i < B * T; i++) {
      const id = Number(idData[i]);
      const p = Number(positionData[i]);
      if (!(Number.isInteger(id) && id >= 0 && id < V)) throw new RangeError(`token id ${id} outside 0..${V - 1}`);
      if (!(Number.isInteger(p) && p >= 0 && p < P)) throw new RangeError(`position ${p} outside 0..${P - 1}`);
    }
    await this.readTokenRows(idData, hidden);
    for (let i = 0; i < B * T; i++) {
      const row = hidden.subarray(i * C, (i + 1) * C);
      const at = Number(positionData[i]) * C;
      for (let k = 0; k < C; k++) row[k] += this.positions[at + k];
    }
    return new ort.Tensor('float32', hidden, [B, T, C]);
  }

  /** Closes the token table's file; a later embed opens it again. */
  async close(): Promise<void> {
    const file = this.file;
    this.file = undefined;
    if (file) await (await file).close();
  }

  /** Row ids[i] of the token table into rows[i·C, (i+1)·C). */
  private async readTokenRows(ids: BigInt64Array, rows: Float32Array): Promise<void> {
    const C = this.config.nEmbd;
    if (this.tokens.kind === 'memory') {
      for (let i = 0; i < ids.length; i++) {
        const id = Number(ids[i]);
        rows.set(this.tokens.data.subarray(id * C, (id + 1) * C), i * C);
      }
      return;
    }
    const { path, offset } = this.tokens;
    this.file ??= open(path, 'r').catch((err: unknown) => {
      this.file = undefined;
      throw err;
    });
    const fh = await this.file;
    const bytes = new Uint8Array(rows.buffer, rows.byteOffset, rows.byteLength);
    await Promise.all(
      Array.from(ids, async (id, i) => {
        const { bytesRead } = await fh.read(bytes, i * C * 4, C * 4, offset + Number(id) * C * 4);
        if (bytesRead !== C * 4) throw new Error(`${path}: the token table ended early`);
      }),
    );
  }
}
