// Checkpoints encode to valid safetensors files and decode to the same state.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RunKey } from '../../engine/dp/index.ts';
import { CheckpointFormatError, checkpointChunks, decodeCheckpoint, encodeCheckpoint, train, type Checkpoint } from '../../engine/train/index.ts';
import { SoftmaxRegression } from './softmax-regression.ts';

async function sampleCheckpoint(targetEpsilon: number | 'unlimited'): Promise<Checkpoint> {
  const model = new SoftmaxRegression({ rowCount: 50, features: 3, classes: 4 });
  let last: Checkpoint | undefined;
  await train(
    { config: { rowCount: 50, targetEpsilon, batchSize: 10, epochs: 0.6, maxGradNorm: 1, lr: 0.1, accountant: 'rdp' }, model, initialParams: model.initialParams(), runKey: RunKey.generate() },
    { onCheckpoint: (c) => { last = c; } },
  );
  return last!;
}

void test('round trip keeps every field and every tensor byte; Infinity survives JSON', async () => {
  for (const target of [2, 'unlimited'] as const) {
    const checkpoint = await sampleCheckpoint(target);
    const decoded = decodeCheckpoint(encodeCheckpoint(checkpoint));
    assert.deepEqual(decoded, checkpoint);
    if (target === 'unlimited') assert.equal(decoded.epsilon, Infinity);
    else assert.ok(decoded.epsilon > 0 && decoded.epsilon <= 2);
  }
});

void test('the file is safetensors: u64 header length, 8-aligned JSON header, contiguous F32 tensors, string metadata', async () => {
  const checkpoint = await sampleCheckpoint(2);
  const file = Buffer.from(encodeCheckpoint(checkpoint));
  const headerLength = Number(file.readBigUInt64LE(0));
  assert.equal((8 + headerLength) % 8, 0);
  const header = JSON.parse(file.subarray(8, 8 + headerLength).toString('utf8')) as Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  const { __metadata__: metadata, ...tensors } = header as unknown as Record<string, unknown> & { __metadata__: Record<string, unknown> };
  assert.ok(Object.values(metadata).every((v) => typeof v === 'string'));
  const entries = Object.entries(tensors as Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>)
    .sort(([, a], [, b]) => a.data_offsets[0] - b.data_offsets[0]);
  assert.deepEqual(entries.map(([name]) => name).sort(), [
    'optimizer/exp_avg/linear.bias', 'optimizer/exp_avg/linear.weight', 'optimizer/exp_avg_sq/linear.bias', 'optimizer/exp_avg_sq/linear.weight',
    'param/linear.bias', 'param/linear.weight',
  ]);
  let offset = 0;
  for (const [name, entry] of entries) {
    assert.equal(entry.dtype, 'F32');
    assert.equal(entry.data_offsets[0], offset, name);
    offset = entry.data_offsets[1];
    assert.equal(offset - entry.data_offsets[0], 4 * entry.shape.reduce((a, b) => a * b, 1));
  }
  assert.equal(8 + headerLength + offset, file.length);
  const weight = tensors['param/linear.weight'] as { data_offsets: [number, number] };
  const start = 8 + headerLength + weight.data_offsets[0];
  assert.deepEqual(new Float32Array(file.buffer.slice(file.byteOffset + start, file.byteOffset + start + 48)), checkpoint.params[0]);
  // The chunks are the same bytes without one big copy: views of the checkpoint's tensors.
  const chunks = checkpointChunks(checkpoint);
  assert.ok(Buffer.concat(chunks).equals(file));
  assert.equal(chunks[1].buffer, checkpoint.params[0].buffer);
});

void test('decoding is zero-copy when aligned and still correct at an odd offset', async () => {
  const checkpoint = await sampleCheckpoint(2);
  const file = encodeCheckpoint(checkpoint);
  const aligned = decodeCheckpoint(file);
  assert.equal(aligned.params[0].buffer, file.buffer);
  const shifted = new Uint8Array(file.length + 1);
  shifted.set(file, 1);
  const odd = decodeCheckpoint(shifted.subarray(1));
  assert.deepEqual(odd, checkpoint);
  assert.notEqual(odd.params[0].buffer, shifted.buffer);
});

void test('truncated, foreign or inconsistent files are rejected', async () => {
  const file = encodeCheckpoint(await sampleCheckpoint(2));
  assert.throws(() => decodeCheckpoint(file.subarray(0, 4)), CheckpointFormatError);
  assert.throws(() => decodeCheckpoint(file.subarray(0, 100)), CheckpointFormatError);
  assert.throws(() => decodeCheckpoint(file.subarray(0, file.length - 4)), CheckpointFormatError);
  const foreign = Buffer.alloc(24);
  foreign.writeBigUInt64LE(16n, 0);
  foreign.write('{"__metadata__":{}}'.slice(0, 16), 8);
  assert.throws(() => decodeCheckpoint(foreign), CheckpointFormatError);
});
