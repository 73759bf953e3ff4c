// Reading checkpoints as streams, in either layout: a sharded one (index + shards, read a few at a
// time in parallel) or a single safetensors file. Each tensor is allocated once, at its final size,
// and the bytes are copied into it as they arrive: resuming never holds a second copy of the
// checkpoint, nor any buffer larger than a stream's chunk.
import { z } from 'zod';
import {
  CheckpointFormatError,
  allocateCheckpointTensors,
  checkpointFromParts,
  checkpointTensorNames,
  decodeCheckpointMeta,
} from './checkpoint-codec.ts';
import { headerEntries, readSafetensorsStream, type SafetensorsEntry } from './checkpoint-shards-stream.ts';
import { shardIndexSchema, type CheckpointShardIndex } from './checkpoint-shards.ts';
import { CHECKPOINT_FORMAT, type Checkpoint, type ParamSpec } from './types.ts';

/** How many shards are read at once by default. */
export const DEFAULT_SHARD_CONCURRENCY = 4;

function bytesOf(data: Float32Array, start = 0, count = data.length): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset + 4 * start, 4 * count);
}

function checkEntry(what: string, name: string, entry: SafetensorsEntry | undefined, shape: readonly number[]): void {
  if (entry === undefined) throw new CheckpointFormatError(`${what}: tensor ${name} is missing`);
  if (entry.dtype !== 'F32' || JSON.stringify(entry.shape) !== JSON.stringify(shape)) {
    throw new CheckpointFormatError(`${what}: tensor ${name} is ${entry.dtype} [${String(entry.shape)}], expected F32 [${shape.join(', ')}]`);
  }
}

/** A single-file checkpoint (checkpoint-codec's layout), read from a stream. */
export async function readCheckpointStream(source: AsyncIterable<Uint8Array>, what = 'checkpoint'): Promise<Checkpoint> {
  let result: Checkpoint | undefined;
  await readSafetensorsStream(source, (header) => {
    const metadata = header.__metadata__;
    if (metadata?.format !== CHECKPOINT_FORMAT || typeof metadata.veil !== 'string') throw new CheckpointFormatError(`${what}: not a ${CHECKPOINT_FORMAT} file`);
    const meta = decodeCheckpointMeta(metadata.veil);
    const tensors = allocateCheckpointTensors(meta);
    const targets = new Map<string, Uint8Array>();
    for (const { name, spec, data } of tensors) {
      checkEntry(what, name, header[name] as SafetensorsEntry | undefined, spec.shape);
      targets.set(name, bytesOf(data));
    }
    result = checkpointFromParts(meta, tensors);
    return targets;
  }, what);
  return result!;
}

/** Parses and checks a shard index (the JSON of checkpoint.index.json). */
export function parseShardIndex(json: unknown): CheckpointShardIndex {
  const parsed = shardIndexSchema.safeParse(json);
  if (!parsed.success) throw new CheckpointFormatError(`shard index is malformed: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

/** Runs `work` on each item, at most `concurrency` at a time; the first failure fails the whole. */
export async function inParallel<T>(items: readonly T[], concurrency: number, work: (item: T, k: number) => Promise<void>): Promise<void> {
  let next = 0;
  let failed = false;
  const lane = async (): Promise<void> => {
    while (!failed && next < items.length) {
      const k = next++;
      try {
        await work(items[k], k);
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, lane));
}

type OpenShard = (file: string) => Promise<AsyncIterable<Uint8Array>>;

/** A tensor to fill from the shards: `t` is its position in the index (and in file order). */
interface WantedTensor {
  t: number;
  name: string;
  shape: readonly number[];
  data: Float32Array;
}

/**
 * Fills `wanted` from the shards that hold a piece of them (the others are not opened). Every
 * piece must arrive, whole, from the shard the index names, and an opened shard may hold nothing
 * the index does not list.
 */
async function fillFromShards(index: CheckpointShardIndex, wanted: readonly WantedTensor[], openShard: OpenShard, concurrency: number): Promise<void> {
  const listed = index.shards.map(() => new Set<string>());
  for (const tensor of index.tensors) for (const piece of tensor.pieces) listed[piece.shard]?.add(piece.key);
  // Per shard: piece key → where its bytes go.
  const targets = index.shards.map(() => new Map<string, { target: Uint8Array; shape: number[] }>());
  for (const { t, name, shape, data } of wanted) {
    const entry = index.tensors[t];
    if (entry.name !== name || JSON.stringify(entry.shape) !== JSON.stringify(shape)) {
      throw new CheckpointFormatError(`shard index lists ${entry.name} [${String(entry.shape)}] where the checkpoint has ${name} [${shape.join(', ')}]`);
    }
    let covered = 0;
    for (const piece of entry.pieces) {
      if (piece.start !== covered || piece.start + piece.count > data.length || piece.shard >= index.shards.length) {
        throw new CheckpointFormatError(`shard index: the pieces of ${name} do not tile it`);
      }
      const whole = piece.start === 0 && piece.count === data.length;
      targets[piece.shard].set(piece.key, { target: bytesOf(data, piece.start, piece.count), shape: whole ? [...shape] : [piece.count] });
      covered += piece.count;
    }
    if (covered !== data.length) throw new CheckpointFormatError(`shard index: the pieces of ${name} cover ${covered} of ${data.length} values`);
  }
  const needed = index.shards.flatMap((file, k) => (targets[k].size > 0 ? [{ file, k }] : []));
  await inParallel(needed, concurrency, async ({ file, k }) => {
    await readSafetensorsStream(await openShard(file), (header) => {
      const out = new Map<string, Uint8Array>();
      for (const [key, { target, shape }] of targets[k]) {
        checkEntry(file, key, header[key] as SafetensorsEntry | undefined, shape);
        out.set(key, target);
      }
      if (headerEntries(header).length !== listed[k].size) throw new CheckpointFormatError(`${file}: holds tensors its index does not list`);
      return out;
    }, file);
  });
}

/**
 * A sharded checkpoint: `openShard(file)` gives each shard's bytes as a stream (verified by the
 * caller's store). Every piece the index lists must arrive, whole, from the shard it names.
 */
export async function readShardedCheckpoint(index: CheckpointShardIndex, openShard: OpenShard, options: { concurrency?: number } = {}): Promise<Checkpoint> {
  const meta = decodeCheckpointMeta(index.meta);
  const tensors = allocateCheckpointTensors(meta);
  if (tensors.length !== index.tensors.length) throw new CheckpointFormatError(`shard index lists ${index.tensors.length} tensors, the checkpoint has ${tensors.length}`);
  await fillFromShards(index, tensors.map(({ name, spec, data }, t) => ({ t, name, shape: spec.shape, data })), openShard, options.concurrency ?? DEFAULT_SHARD_CONCURRENCY);
  return checkpointFromParts(meta, tensors);
}

/**
 * Only the model's weights of a sharded checkpoint, for evaluating or registering the model: the
 * optimizer's moments are twice the weights (GPT-2 large: 6.2 of 9.3 GB), and the shards that hold
 * only moments are not read.
 */
export async function readShardedCheckpointParams(
  index: CheckpointShardIndex, openShard: OpenShard, options: { concurrency?: number } = {},
): Promise<{ paramSpecs: ParamSpec[]; params: Float32Array[] }> {
  const meta = decodeCheckpointMeta(index.meta);
  const names = checkpointTensorNames(meta);
  if (names.length !== index.tensors.length) throw new CheckpointFormatError(`shard index lists ${index.tensors.length} tensors, the checkpoint has ${names.length}`);
  const wanted = meta.paramSpecs.map((spec, t) => ({ t, name: names[t].name, shape: spec.shape, data: new Float32Array(spec.shape.reduce((a, b) => a * b, 1)) }));
  await fillFromShards(index, wanted, openShard, options.concurrency ?? DEFAULT_SHARD_CONCURRENCY);
  return { paramSpecs: meta.paramSpecs, params: wanted.map((w) => w.data) };
}
