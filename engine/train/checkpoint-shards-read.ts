// Reading checkpoints as streams, in either layout: a sharded one (index + shards, read a few at a
// time in parallel) or a single safetensors file. Each tensor is allocated once, at its final size,
// and the bytes are copied into it as they arrive: resuming never holds a second copy of the
// checkpoint, nor any buffer larger than a stream's chunk.
import { z } from 'zod';
import {
  CheckpointFormatError,
  allocateCheckpointTensors,
  checkpointFromParts,
  decodeCheckpointMeta,
} from './checkpoint-codec.ts';
import { headerEntries, readSafetensorsStream, type SafetensorsEntry } from './checkpoint-shards-stream.ts';
import { shardIndexSchema, type CheckpointShardIndex } from './checkpoint-shards.ts';
import { CHECKPOINT_FORMAT, type Checkpoint } from './types.ts';

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

/**
 * A sharded checkpoint: `openShard(file)` gives each shard's bytes as a stream (verified by the
 * caller's store). Every piece the index lists must arrive, whole, from the shard it names.
 */
export async function readShardedCheckpoint(
  index: CheckpointShardIndex,
  openShard: (file: string) => Promise<AsyncIterable<Uint8Array>>,
  options: { concurrency?: number } = {},
): Promise<Checkpoint> {
  const meta = decodeCheckpointMeta(index.meta);
  const tensors = allocateCheckpointTensors(meta);
  if (tensors.length !== index.tensors.length) throw new CheckpointFormatError(`shard index lists ${index.tensors.length} tensors, the checkpoint has ${tensors.length}`);
  // Per shard: piece key → where its bytes go.
  const targets = index.shards.map(() => new Map<string, { target: Uint8Array; shape: number[] }>());
  tensors.forEach(({ name, spec, data }, t) => {
    const listed = index.tensors[t];
    if (listed.name !== name || JSON.stringify(listed.shape) !== JSON.stringify(spec.shape)) {
      throw new CheckpointFormatError(`shard index lists ${listed.name} [${String(listed.shape)}] where the checkpoint has ${name} [${spec.shape.join(', ')}]`);
    }
    let covered = 0;
    for (const piece of listed.pieces) {
      if (piece.start !== covered || piece.start + piece.count > data.length || piece.shard >= index.shards.length) {
        throw new CheckpointFormatError(`shard index: the pieces of ${name} do not tile it`);
      }
      const whole = piece.start === 0 && piece.count === data.length;
      targets[piece.shard].set(piece.key, { target: bytesOf(data, piece.start, piece.count), shape: whole ? [...spec.shape] : [piece.count] });
      covered += piece.count;
    }
    if (covered !== data.length) throw new CheckpointFormatError(`shard index: the pieces of ${name} cover ${covered} of ${data.length} values`);
  });
  await inParallel(index.shards, options.concurrency ?? DEFAULT_SHARD_CONCURRENCY, async (file, k) => {
    await readSafetensorsStream(await openShard(file), (header) => {
      const out = new Map<string, Uint8Array>();
      for (const [key, { target, shape }] of targets[k]) {
        checkEntry(file, key, header[key] as SafetensorsEntry | undefined, shape);
        out.set(key, target);
      }
      if (headerEntries(header).length !== out.size) throw new CheckpointFormatError(`${file}: holds tensors its index does not list`);
      return out;
    }, file);
  });
  return checkpointFromParts(meta, tensors);
}
