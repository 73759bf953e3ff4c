// Sharded checkpoints: bounded shards that are each a valid safetensors file, read back streaming
// (at any chunk boundaries) to the same state, and a run resumed from them bit-identical to one
// that never stopped. The single-file layout still reads, streaming too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RunKey } from '../../engine/dp/index.ts';
import { CheckpointFormatError, decodeCheckpoint, encodeCheckpoint, train, type Checkpoint, type TrainConfig } from '../../engine/train/index.ts';
import { shardCheckpoint, type CheckpointShard } from '../../engine/train/checkpoint-shards.ts';
import { parseShardIndex, readCheckpointStream, readShardedCheckpoint, readShardedCheckpointParams } from '../../engine/train/checkpoint-shards-read.ts';
import { SoftmaxRegression } from './softmax-regression.ts';

const runKey = new RunKey(new Uint8Array(32).fill(5));
const modelOptions = { rowCount: 200, features: 6, classes: 3 };
const config: TrainConfig = {
  rowCount: 200, targetEpsilon: 3, batchSize: 20, epochs: 1, maxGradNorm: 0.7, lr: 0.05, physicalBatchSize: 8,
  accountant: 'rdp', checkpointEvery: 3, optimizer: { kind: 'adamw', weightDecay: 0.1 },
};

async function run(options: { stopAfter?: number; resumeFrom?: Checkpoint } = {}): Promise<{ params: Buffer; last: Checkpoint; steps: number }> {
  const model = new SoftmaxRegression(modelOptions);
  let steps = 0;
  let last: Checkpoint | undefined;
  const result = await train(
    {
      config, model, runKey, resumeFrom: options.resumeFrom,
      initialParams: options.resumeFrom ? undefined : model.initialParams(),
      shouldStop: () => options.stopAfter !== undefined && steps >= options.stopAfter,
    },
    { onProgress: () => { steps++; }, onCheckpoint: (c) => { last = c; } },
  );
  return { params: Buffer.concat(result.params.map((p) => Buffer.from(p.buffer, p.byteOffset, p.byteLength))), last: last!, steps };
}

/** The bytes of `chunks` re-cut into pieces of `size` (copies: the reader must not rely on the writer's views). */
async function* rechunk(chunks: readonly Uint8Array[], size: number): AsyncGenerator<Uint8Array> {
  const all = Buffer.concat(chunks);
  for (let i = 0; i < all.length; i += size) yield Uint8Array.from(all.subarray(i, i + size));
}

function opener(shards: readonly CheckpointShard[], chunkSize: number): (file: string) => Promise<AsyncIterable<Uint8Array>> {
  return (file) => {
    const shard = shards.find((s) => s.file === file);
    if (!shard) throw new Error(`no shard ${file}`);
    return Promise.resolve(rechunk(shard.chunks, chunkSize));
  };
}

void test('a tiny shard limit cuts the checkpoint into several valid safetensors files of bounded data', async () => {
  const { last } = await run({ stopAfter: 2 });
  const limit = 40; // 10 float32 values: splits the 6×3 weight matrix and its Adam moments
  const { index, shards } = shardCheckpoint(last, limit);
  const totalValues = last.params.reduce((n, p) => n + p.length, 0) * 3; // params, exp_avg, exp_avg_sq
  assert.equal(shards.length, Math.ceil(totalValues / 10));
  assert.deepEqual(index.shards, shards.map((s) => s.file));
  for (const shard of shards) {
    const file = Buffer.concat(shard.chunks);
    assert.equal(file.length, shard.bytes);
    const headerLength = Number(file.readBigUInt64LE(0));
    assert.equal((8 + headerLength) % 8, 0);
    const header = JSON.parse(file.subarray(8, 8 + headerLength).toString('utf8')) as Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
    const { __metadata__: _metadata, ...entries } = header;
    const dataBytes = file.length - 8 - headerLength;
    assert.ok(dataBytes <= limit, `${shard.file} holds ${dataBytes} bytes of data`);
    assert.equal(Math.max(...Object.values(entries).map((e) => e.data_offsets[1])), dataBytes);
    for (const e of Object.values(entries)) assert.equal(e.data_offsets[1] - e.data_offsets[0], 4 * e.shape.reduce((a, b) => a * b, 1));
  }
  assert.ok(index.tensors.some((t) => t.pieces.length > 1), 'some tensor is split across shards');
  // The shards' chunks are views of the checkpoint's own tensors, not copies.
  assert.ok(shards.flatMap((s) => s.chunks.slice(1)).some((c) => c.buffer === last.params[0].buffer));
});

void test('read back streaming at any chunk size: the same checkpoint, every field and tensor byte', async () => {
  const { last } = await run({ stopAfter: 4 });
  for (const [limit, chunkSize] of [[40, 1], [40, 7], [100, 4096], [1 << 20, 13]] as const) {
    const { index, shards } = shardCheckpoint(last, limit);
    const json = JSON.parse(JSON.stringify(index)) as unknown;
    const read = await readShardedCheckpoint(parseShardIndex(json), opener(shards, chunkSize), { concurrency: 3 });
    assert.deepEqual(read, last, `limit ${limit}, chunks of ${chunkSize}`);
  }
});

void test("the weights alone: the same parameters, and the shards holding only the optimizer's moments are not opened", async () => {
  const { last } = await run({ stopAfter: 4 });
  for (const [limit, chunkSize] of [[40, 3], [100, 4096], [1 << 20, 13]] as const) {
    const { index, shards } = shardCheckpoint(last, limit);
    const opened: string[] = [];
    const open = opener(shards, chunkSize);
    const read = await readShardedCheckpointParams(parseShardIndex(JSON.parse(JSON.stringify(index)) as unknown), (file) => {
      opened.push(file);
      return open(file);
    }, { concurrency: 2 });
    assert.deepEqual(read.params, last.params, `limit ${limit}`);
    assert.deepEqual(read.paramSpecs, last.paramSpecs);
    // The parameters come first in file order: a third of the bytes, so about a third of the shards.
    const paramShards = new Set(index.tensors.slice(0, last.params.length).flatMap((t) => t.pieces.map((p) => p.shard)));
    assert.deepEqual(opened.sort(), [...paramShards].sort((a, b) => a - b).map((k) => index.shards[k]).sort(), `limit ${limit}: only the shards with weights`);
    if (shards.length > 3) assert.ok(opened.length < shards.length / 2, `limit ${limit}: ${opened.length} of ${shards.length} shards opened`);
  }
});

void test('stop, shard, read, resume → bit-identical to an uninterrupted run', async () => {
  const straight = await run();
  assert.ok(straight.steps >= 8);
  const first = await run({ stopAfter: 5 });
  const { index, shards } = shardCheckpoint(first.last, 24);
  assert.ok(shards.length > 5);
  const resumed = await run({ resumeFrom: await readShardedCheckpoint(index, opener(shards, 5)) });
  assert.ok(resumed.params.equals(straight.params), 'parameters differ');
  assert.deepEqual(resumed.last, straight.last);
  assert.notDeepEqual(first.last.params, straight.last.params, 'the run must have moved after step 5');
});

void test('a single-file checkpoint (the layout before sharding) reads as a stream too', async () => {
  const { last } = await run({ stopAfter: 3 });
  const file = encodeCheckpoint(last);
  for (const size of [1, 9, file.length]) assert.deepEqual(await readCheckpointStream(rechunk([file], size)), decodeCheckpoint(file));
  await assert.rejects(readCheckpointStream(rechunk([file.subarray(0, file.length - 4)], 64)), CheckpointFormatError);
  await assert.rejects(readCheckpointStream(rechunk([file, new Uint8Array(4)], 64)), CheckpointFormatError);
});

void test('a truncated, swapped or unlisted shard, or an index that does not tile a tensor, is refused', async () => {
  const { last } = await run({ stopAfter: 2 });
  const { index, shards } = shardCheckpoint(last, 40);
  const truncated = shards.map((s, k) => (k === 1 ? { ...s, chunks: [Buffer.concat(s.chunks).subarray(0, s.bytes - 4)] } : s));
  await assert.rejects(readShardedCheckpoint(index, opener(truncated, 8)), CheckpointFormatError);
  const swapped = shards.map((s, k) => ({ ...s, chunks: shards[k === 0 ? 1 : k === 1 ? 0 : k].chunks }));
  await assert.rejects(readShardedCheckpoint(index, opener(swapped, 8)), CheckpointFormatError);
  const gap = structuredClone(index);
  gap.tensors[0].pieces = gap.tensors[0].pieces.slice(1);
  await assert.rejects(readShardedCheckpoint(gap, opener(shards, 8)), CheckpointFormatError);
  assert.throws(() => parseShardIndex({ ...index, shards: ['../escape.safetensors'] }), CheckpointFormatError);
});
