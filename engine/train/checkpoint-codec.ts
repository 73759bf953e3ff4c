// Checkpoints as safetensors files: an 8-byte little-endian header length, a JSON header
// (tensor name → dtype, shape, byte range; `__metadata__` → strings), then the raw float32
// tensors. Any safetensors reader (Python's safetensors.safe_open, HF tools) opens them; the
// non-tensor state (step, sampler/noise/accountant state, config, plan) is one JSON string in
// the metadata under "veil". Tensors: `param/<name>` and `optimizer/<slot>/<name>`.
import {
  CHECKPOINT_FORMAT,
  CHECKPOINT_VERSION,
  type Checkpoint,
  type ParamSpec,
} from './types.ts';

export class CheckpointFormatError extends Error {
  constructor(message: string) {
    super(`checkpoint: ${message}`);
    this.name = 'CheckpointFormatError';
  }
}

interface TensorEntry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

/** Everything of a checkpoint but its tensors (and the names of its optimizer slots). */
export type CheckpointMeta = Omit<Checkpoint, 'params' | 'optimizerState'> & {
  optimizerState: { kind: Checkpoint['optimizerState']['kind']; stepCount: number; slots: string[] };
};

const HEADER_ALIGN = 8; // safetensors pads the header with spaces so the data starts 8-aligned
const NON_FINITE = '$nonFinite'; // JSON has no Infinity (ε of an unlimited run)

function replacer(_key: string, value: unknown): unknown {
  return typeof value === 'number' && !Number.isFinite(value) ? { [NON_FINITE]: String(value) } : value;
}

function reviver(_key: string, value: unknown): unknown {
  if (typeof value === 'object' && value !== null && NON_FINITE in value && Object.keys(value).length === 1) {
    return Number((value as Record<string, string>)[NON_FINITE]);
  }
  return value;
}

/** The non-tensor state as one JSON string (Infinity kept); the single file and the shard index both store it. */
export function encodeCheckpointMeta(checkpoint: Checkpoint): string {
  const { params: _params, optimizerState, ...rest } = checkpoint;
  const slots = Object.keys(optimizerState.slots).sort();
  const meta: CheckpointMeta = { ...rest, optimizerState: { kind: optimizerState.kind, stepCount: optimizerState.stepCount, slots } };
  return JSON.stringify(meta, replacer);
}

export function decodeCheckpointMeta(text: string): CheckpointMeta {
  const meta = JSON.parse(text, reviver) as CheckpointMeta;
  if (meta.format !== CHECKPOINT_FORMAT) throw new CheckpointFormatError(`not a ${CHECKPOINT_FORMAT} checkpoint`);
  if (meta.version !== CHECKPOINT_VERSION) throw new CheckpointFormatError(`version ${String(meta.version)} is not the supported ${CHECKPOINT_VERSION}`);
  return meta;
}

/** Every tensor of a checkpoint in file order (parameters, then each optimizer slot's), with its name. */
export function checkpointTensors(checkpoint: Checkpoint): { name: string; spec: ParamSpec; data: Float32Array }[] {
  const slots = Object.keys(checkpoint.optimizerState.slots).sort();
  const tensors: { name: string; spec: ParamSpec; data: Float32Array }[] = [];
  checkpoint.paramSpecs.forEach((spec, k) => tensors.push({ name: paramTensorName(spec), spec, data: checkpoint.params[k] }));
  for (const slot of slots) {
    checkpoint.paramSpecs.forEach((spec, k) => tensors.push({ name: slotTensorName(slot, spec), spec, data: checkpoint.optimizerState.slots[slot][k] }));
  }
  return tensors;
}

/** Every tensor name the meta promises, in file order: the parameters, then each optimizer slot's. */
export function checkpointTensorNames(meta: CheckpointMeta): { name: string; spec: ParamSpec }[] {
  return [
    ...meta.paramSpecs.map((spec) => ({ name: paramTensorName(spec), spec })),
    ...meta.optimizerState.slots.flatMap((slot) => meta.paramSpecs.map((spec) => ({ name: slotTensorName(slot, spec), spec }))),
  ];
}

/** Empty tensors for every name the meta promises, in file order: a streaming reader fills them. */
export function allocateCheckpointTensors(meta: CheckpointMeta): { name: string; spec: ParamSpec; data: Float32Array }[] {
  return checkpointTensorNames(meta).map(({ name, spec }) => ({ name, spec, data: new Float32Array(spec.shape.reduce((a, b) => a * b, 1)) }));
}

/** The Checkpoint that `meta` and its tensors (as allocateCheckpointTensors ordered them) make. */
export function checkpointFromParts(meta: CheckpointMeta, tensors: readonly { data: Float32Array }[]): Checkpoint {
  const { optimizerState: optimizerMeta, ...rest } = meta;
  const n = meta.paramSpecs.length;
  if (tensors.length !== n * (1 + optimizerMeta.slots.length)) throw new CheckpointFormatError('tensor count does not match the checkpoint\'s parameters and slots');
  const params = tensors.slice(0, n).map((t) => t.data);
  const slots: Record<string, Float32Array[]> = {};
  optimizerMeta.slots.forEach((slot, s) => {
    slots[slot] = tensors.slice(n * (s + 1), n * (s + 2)).map((t) => t.data);
  });
  return { ...rest, params, optimizerState: { kind: optimizerMeta.kind, stepCount: optimizerMeta.stepCount, slots } };
}

function paramTensorName(spec: ParamSpec): string {
  return `param/${spec.name}`;
}

function slotTensorName(slot: string, spec: ParamSpec): string {
  return `optimizer/${slot}/${spec.name}`;
}

/** The file as a header chunk followed by zero-copy views of each tensor: stream them to S3 without building one buffer. */
export function checkpointChunks(checkpoint: Checkpoint): Uint8Array[] {
  const tensors = checkpointTensors(checkpoint);
  const header: Record<string, unknown> = { __metadata__: { format: CHECKPOINT_FORMAT, veil: encodeCheckpointMeta(checkpoint) } };
  let offset = 0;
  for (const { name, spec, data } of tensors) {
    const expected = spec.shape.reduce((a, b) => a * b, 1);
    if (data.length !== expected) throw new CheckpointFormatError(`${name} has ${data.length} values, shape [${spec.shape.join(', ')}] needs ${expected}`);
    if (name in header) throw new CheckpointFormatError(`duplicate tensor name ${name}`);
    header[name] = { dtype: 'F32', shape: [...spec.shape], data_offsets: [offset, offset + data.byteLength] } satisfies TensorEntry;
    offset += data.byteLength;
  }
  let headerText = JSON.stringify(header);
  const headerBytes = Buffer.byteLength(headerText, 'utf8');
  headerText += ' '.repeat((HEADER_ALIGN - ((8 + headerBytes) % HEADER_ALIGN)) % HEADER_ALIGN);
  const prefix = Buffer.alloc(8 + Buffer.byteLength(headerText, 'utf8'));
  prefix.writeBigUInt64LE(BigInt(prefix.length - 8), 0);
  prefix.write(headerText, 8, 'utf8');
  return [prefix, ...tensors.map(({ data }) => new Uint8Array(data.buffer, data.byteOffset, data.byteLength))];
}

/** The whole file in one buffer (fine up to Node's ~4 GiB Buffer limit; stream checkpointChunks beyond). */
export function encodeCheckpoint(checkpoint: Checkpoint): Uint8Array {
  return Buffer.concat(checkpointChunks(checkpoint));
}

/**
 * Parses a checkpoint file. Tensors are zero-copy views into `bytes` when aligned (copies
 * otherwise): do not modify `bytes` while the checkpoint is in use.
 */
export function decodeCheckpoint(bytes: Uint8Array): Checkpoint {
  if (bytes.length < 8) throw new CheckpointFormatError('shorter than its 8-byte header length');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = Number(view.getBigUint64(0, true));
  if (8 + headerLength > bytes.length) throw new CheckpointFormatError(`header length ${headerLength} runs past the end of the file`);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset + 8, headerLength).toString('utf8')) as Record<string, unknown>;
  } catch (error) {
    throw new CheckpointFormatError(`header is not JSON (${(error as Error).message})`);
  }
  const metadata = header.__metadata__ as Record<string, string> | undefined;
  if (metadata?.format !== CHECKPOINT_FORMAT || typeof metadata.veil !== 'string') throw new CheckpointFormatError(`not a ${CHECKPOINT_FORMAT} file`);
  const meta = decodeCheckpointMeta(metadata.veil);
  const dataStart = 8 + headerLength;
  const dataLength = bytes.length - dataStart;

  const tensor = (name: string, spec: ParamSpec): Float32Array => {
    const entry = header[name] as TensorEntry | undefined;
    if (entry === undefined) throw new CheckpointFormatError(`tensor ${name} is missing`);
    const [begin, end] = entry.data_offsets;
    const count = spec.shape.reduce((a, b) => a * b, 1);
    if (entry.dtype !== 'F32' || JSON.stringify(entry.shape) !== JSON.stringify(spec.shape) || end - begin !== 4 * count || begin < 0 || end > dataLength) {
      throw new CheckpointFormatError(`tensor ${name} does not match its spec (F32 [${spec.shape.join(', ')}]) or lies outside the data`);
    }
    const absolute = bytes.byteOffset + dataStart + begin;
    if (absolute % 4 === 0) return new Float32Array(bytes.buffer, absolute, count);
    return new Float32Array(bytes.slice(dataStart + begin, dataStart + end).buffer);
  };

  return checkpointFromParts(meta, checkpointTensorNames(meta).map(({ name, spec }) => ({ data: tensor(name, spec) })));
}
