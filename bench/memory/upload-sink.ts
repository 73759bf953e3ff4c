// A checkpoint "uploaded" the way the train activity uploads it (activities/training/checkpoints.ts):
// cut into shards of the default size, a few at a time, each streamed as part-sized views through
// infra/storage's create-only upload (hashing, part buffering, multipart), into a client that
// takes the parts and discards them. Only the network and MinIO are left out: what the worker
// process holds while it uploads is what this holds.
import type { Client } from 'minio';
import { shardStream } from '../../activities/training/checkpoints.ts';
import { DEFAULT_MAX_SHARD_BYTES, shardCheckpoint } from '../../engine/train/checkpoint-shards.ts';
import { DEFAULT_SHARD_CONCURRENCY, inParallel } from '../../engine/train/checkpoint-shards-read.ts';
import type { Checkpoint } from '../../engine/train/index.ts';
import { uploadCreateOnly } from '../../infra/storage/upload.ts';

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** The few calls uploadCreateOnly makes, each settling on the next turn of the event loop, as a request would. */
const discardingClient = {
  async initiateNewMultipartUpload() { await tick(); return 'upload'; },
  async uploadPart() { await tick(); return { etag: 'etag' }; },
  async putObject() { await tick(); return { etag: 'etag' }; },
  async makeRequestAsync() { await tick(); return (async function* () { /* an empty completion body */ })(); },
  async abortMultipartUpload() { await tick(); },
} as unknown as Client;

/** Uploads every shard of `checkpoint` to nowhere; returns the bytes sent. */
export async function uploadToNowhere(checkpoint: Checkpoint): Promise<number> {
  const { shards } = shardCheckpoint(checkpoint, DEFAULT_MAX_SHARD_BYTES);
  let bytes = 0;
  await inParallel(shards, DEFAULT_SHARD_CONCURRENCY, async (shard) => {
    const { size } = await uploadCreateOnly(discardingClient, 'bench', shard.file, shardStream(shard.chunks));
    bytes += size;
  });
  return bytes;
}
