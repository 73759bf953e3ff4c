// Sharded checkpoints: the tensors laid end to end and cut into safetensors files of at most
// `maxShardBytes` of tensor data each (a tensor larger than what is left of a shard continues in
// the next one, as 1-D pieces), plus a small JSON index with the non-tensor state and where each
// piece lies. Shards are zero-copy views of the checkpoint's tensors, so uploading them builds no
// buffer of the whole checkpoint, and any safetensors reader opens each shard.
import { z } from 'zod';
import { CheckpointFormatError, checkpointTensors, encodeCheckpointMeta } from './checkpoint-codec.ts';
import type { Checkpoint } from './types.ts';

export const SHARD_INDEX_FORMAT = 'veil-checkpoint-shards/1';
/** The index's file name in a checkpoint prefix. */
export const SHARD_INDEX_FILE = 'checkpoint.index.json';
/** 512 MiB: a few parallel uploads of this size stay well within a worker's memory. */
export const DEFAULT_MAX_SHARD_BYTES = 512 * 1024 * 1024;
const HEADER_ALIGN = 8;

/** Shard k's file name (1-based, so that a listing reads in order). */
export function shardFileName(k: number): string {
  return `shard-${String(k + 1).padStart(5, '0')}.safetensors`;
}

const pieceSchema = z.object({
  shard: z.number().int().nonnegative(),
  /** The piece's tensor name inside its shard. */
  key: z.string(),
  /** First element of the tensor (flattened) this piece holds, and how many. */
  start: z.number().int().nonnegative(),
  count: z.number().int().positive(),
});

export const shardIndexSchema = z.object({
  format: z.literal(SHARD_INDEX_FORMAT),
  /** The non-tensor state, as encodeCheckpointMeta writes it. */
  meta: z.string(),
  maxShardBytes: z.number().int().positive(),
  shards: z.array(z.string().regex(/^shard-\d{5}\.safetensors$/)),
  tensors: z.array(z.object({ name: z.string(), shape: z.array(z.number().int().nonnegative()), pieces: z.array(pieceSchema) })),
});
export type CheckpointShardIndex = z.output<typeof shardIndexSchema>;

export interface CheckpointShard {
  file: string;
  /** The file's size: header and data. */
  bytes: number;
  /** The file as a header chunk and views of the tensors (valid while the checkpoint is unchanged). */
  chunks: Uint8Array[];
}

interface PlannedPiece {
  key: string;
  data: Float32Array;
}

function safetensorsHeader(pieces: readonly PlannedPiece[], wholeShapes: Map<string, number[]>): Buffer {
  const header: Record<string, unknown> = { __metadata__: { format: SHARD_INDEX_FORMAT } };
  let offset = 0;
  for (const { key, data } of pieces) {
    header[key] = { dtype: 'F32', shape: wholeShapes.get(key) ?? [data.length], data_offsets: [offset, offset + data.byteLength] };
    offset += data.byteLength;
  }
  let text = JSON.stringify(header);
  text += ' '.repeat((HEADER_ALIGN - ((8 + Buffer.byteLength(text, 'utf8')) % HEADER_ALIGN)) % HEADER_ALIGN);
  const prefix = Buffer.alloc(8 + Buffer.byteLength(text, 'utf8'));
  prefix.writeBigUInt64LE(BigInt(prefix.length - 8), 0);
  prefix.write(text, 8, 'utf8');
  return prefix;
}

/**
 * Cuts a checkpoint into shards of at most `maxShardBytes` of tensor data (rounded down to whole
 * float32 values) and describes them in an index. Deterministic: the same tensors and limit give
 * the same files, so a resumed run that rewrites a step writes the same bytes.
 */
export function shardCheckpoint(checkpoint: Checkpoint, maxShardBytes = DEFAULT_MAX_SHARD_BYTES): { index: CheckpointShardIndex; shards: CheckpointShard[] } {
  const capacity = Math.floor(maxShardBytes / 4); // float32 values per shard
  if (!(capacity >= 1)) throw new CheckpointFormatError(`shard size ${maxShardBytes} is below one float32 value`);
  const planned: PlannedPiece[][] = [[]];
  const wholeShapes = new Map<string, number[]>();
  let left = capacity;
  const tensors: CheckpointShardIndex['tensors'] = [];
  for (const { name, spec, data } of checkpointTensors(checkpoint)) {
    const count = spec.shape.reduce((a, b) => a * b, 1);
    if (data.length !== count) throw new CheckpointFormatError(`${name} has ${data.length} values, shape [${spec.shape.join(', ')}] needs ${count}`);
    const pieces: CheckpointShardIndex['tensors'][number]['pieces'] = [];
    let start = 0;
    while (start < count) {
      if (left === 0) {
        planned.push([]);
        left = capacity;
      }
      const take = Math.min(left, count - start);
      // A tensor whole in one shard keeps its name and shape; pieces of a split one are 1-D ranges.
      const whole = start === 0 && take === count;
      const key = whole ? name : `${name}[${start}:${start + take}]`;
      if (whole) wholeShapes.set(key, [...spec.shape]);
      planned.at(-1)!.push({ key, data: data.subarray(start, start + take) });
      pieces.push({ shard: planned.length - 1, key, start, count: take });
      start += take;
      left -= take;
    }
    tensors.push({ name, shape: [...spec.shape], pieces });
  }
  const shards = planned.map((pieces, k): CheckpointShard => {
    const header = safetensorsHeader(pieces, wholeShapes);
    const views = pieces.map(({ data }) => new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    return { file: shardFileName(k), bytes: header.length + views.reduce((n, v) => n + v.byteLength, 0), chunks: [header, ...views] };
  });
  const index: CheckpointShardIndex = {
    format: SHARD_INDEX_FORMAT,
    meta: encodeCheckpointMeta(checkpoint),
    maxShardBytes,
    shards: shards.map((s) => s.file),
    tensors,
  };
  return { index, shards };
}
