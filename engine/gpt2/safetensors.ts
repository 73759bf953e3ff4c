// Reading and writing the safetensors format (https://huggingface.co/docs/safetensors): an 8-byte
// little-endian header length, a JSON header naming each tensor's dtype, shape and byte range,
// then the raw little-endian data. Tensors are read one by one with positional reads, so files
// larger than a Node Buffer (gpt2-xl is 6 GB) load fine.
import { open } from 'node:fs/promises';
import { float16BitsToFloat32 } from '../onnx/dtype.ts';

export interface TensorInfo {
  dtype: string;
  shape: number[];
  dataOffsets: [number, number];
}

export interface SafetensorsHeader {
  tensors: Map<string, TensorInfo>;
  metadata: Record<string, string>;
  dataStart: number;
}

const bytesPerElement: Record<string, number> = { F64: 8, F32: 4, F16: 2, BF16: 2 };

export async function readSafetensorsHeader(path: string): Promise<SafetensorsHeader> {
  const fh = await open(path, 'r');
  try {
    const lenBuf = Buffer.alloc(8);
    await fh.read(lenBuf, 0, 8, 0);
    const headerLen = Number(lenBuf.readBigUInt64LE(0));
    if (headerLen <= 0 || headerLen > 100_000_000) throw new Error(`${path}: not a safetensors file (header length ${headerLen})`);
    const headerBuf = Buffer.alloc(headerLen);
    await fh.read(headerBuf, 0, headerLen, 8);
    const raw = JSON.parse(headerBuf.toString('utf8')) as Record<string, unknown>;
    const tensors = new Map<string, TensorInfo>();
    let metadata: Record<string, string> = {};
    for (const [name, value] of Object.entries(raw)) {
      if (name === '__metadata__') {
        metadata = value as Record<string, string>;
        continue;
      }
      const v = value as { dtype: string; shape: number[]; data_offsets: [number, number] };
      tensors.set(name, { dtype: v.dtype, shape: v.shape, dataOffsets: v.data_offsets });
    }
    return { tensors, metadata, dataStart: 8 + headerLen };
  } finally {
    await fh.close();
  }
}

/** Converts raw little-endian bytes of a float dtype to float32 values. */
function toFloat32(dtype: string, bytes: Uint8Array, count: number): Float32Array {
  const aligned = bytes.byteOffset % 8 === 0 ? bytes : bytes.slice();
  switch (dtype) {
    case 'F32':
      return new Float32Array(aligned.buffer, aligned.byteOffset, count);
    case 'F64':
      return Float32Array.from(new Float64Array(aligned.buffer, aligned.byteOffset, count));
    case 'F16': {
      const src = new Uint16Array(aligned.buffer, aligned.byteOffset, count);
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = float16BitsToFloat32(src[i]);
      return out;
    }
    case 'BF16': {
      // bfloat16 is the top half of a float32.
      const src = new Uint16Array(aligned.buffer, aligned.byteOffset, count);
      const out = new Float32Array(count);
      const bits = new Uint32Array(out.buffer);
      for (let i = 0; i < count; i++) bits[i] = src[i] << 16;
      return out;
    }
    default:
      throw new Error(`safetensors dtype ${dtype} is not a float type this engine reads`);
  }
}

/** Reads the named tensors of one file as float32 (F32, F64, F16 and BF16 are converted). */
export async function readSafetensors(path: string, names?: Iterable<string>): Promise<Map<string, { shape: number[]; data: Float32Array }>> {
  const header = await readSafetensorsHeader(path);
  const wanted = names ? [...names] : [...header.tensors.keys()];
  const out = new Map<string, { shape: number[]; data: Float32Array }>();
  const fh = await open(path, 'r');
  try {
    for (const name of wanted) {
      const info = header.tensors.get(name);
      if (!info) throw new Error(`${path}: no tensor ${name}`);
      const size = bytesPerElement[info.dtype];
      if (size === undefined) throw new Error(`${path}: tensor ${name} has dtype ${info.dtype}; only F32, F64, F16, BF16 are supported`);
      const count = info.shape.reduce((a, b) => a * b, 1);
      const [start, end] = info.dataOffsets;
      if (end - start !== count * size) throw new Error(`${path}: tensor ${name} spans ${end - start} bytes, expected ${count * size}`);
      const bytes = new Uint8Array(new ArrayBuffer(end - start));
      let done = 0;
      while (done < bytes.length) {
        const { bytesRead } = await fh.read(bytes, done, Math.min(bytes.length - done, 1 << 30), header.dataStart + start + done);
        if (bytesRead === 0) throw new Error(`${path}: truncated while reading ${name}`);
        done += bytesRead;
      }
      out.set(name, { shape: info.shape, data: toFloat32(info.dtype, bytes, count) });
    }
  } finally {
    await fh.close();
  }
  return out;
}

/** Writes float32 tensors; `metadata` goes in __metadata__ (transformers wants {format: 'pt'}). */
export async function writeSafetensors(
  path: string,
  tensors: Iterable<[string, { shape: readonly number[]; data: Float32Array }]>,
  metadata: Record<string, string> = { format: 'pt' },
): Promise<void> {
  const entries = [...tensors];
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const [name, t] of entries) {
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (count !== t.data.length) throw new Error(`writeSafetensors: ${name} has ${t.data.length} values for shape [${t.shape}]`);
    header[name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + t.data.byteLength] };
    offset += t.data.byteLength;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((8 + Buffer.byteLength(json)) % 8)) % 8); // data starts 8-byte aligned
  const headerBytes = Buffer.from(json, 'utf8');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(headerBytes.length));
  const fh = await open(path, 'w');
  try {
    await fh.write(len);
    await fh.write(headerBytes);
    for (const [, t] of entries) await fh.write(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  } finally {
    await fh.close();
  }
}
