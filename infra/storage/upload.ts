// Streaming, create-only uploads. The body is hashed as it passes and cut into parts of a bounded
// size, so memory stays at about two parts whatever the object's size. Small bodies go in one PUT;
// larger ones as an S3 multipart upload. Both carry `If-None-Match: *`, which the server checks at
// the PUT, at the multipart initiation (an early "already exists") and at the completion (the
// guard against a writer that raced us in between). A failed multipart upload is aborted, so no
// half-written object is ever visible and no orphan parts are left where the server is reachable.
import { createHash } from 'node:crypto';
import type { Client } from 'minio';
import { ObjectExistsError, isPreconditionFailed } from './errors.ts';
import type { ObjectDigest } from './hashing.ts';

/** Anything an upload can read from: bytes, or a stream of them (a Node Readable is one). */
export type UploadBody = Uint8Array | string | AsyncIterable<Uint8Array | string>;

/** S3 allows 10,000 parts of at least 5 MiB (except the last). */
export const MIN_PART_SIZE = 5 * 1024 * 1024;
export const DEFAULT_PART_SIZE = 8 * 1024 * 1024;
const MAX_PARTS = 10_000;

/**
 * Part n's size: the base size for the first thousand parts, twice it for the next thousand, and
 * so on. Small parts keep memory low for the usual object; growing ones let a stream of unknown
 * length reach 55,000 × the base (440 GB with 8 MiB) within S3's 10,000 parts.
 */
export function partSizeFor(partNumber: number, base: number): number {
  return base * (1 + Math.floor((partNumber - 1) / 1000));
}

export interface UploadOptions {
  contentType?: string;
  partSize?: number;
}

async function* chunksOf(body: UploadBody): AsyncGenerator<Buffer> {
  if (typeof body === 'string') yield Buffer.from(body);
  else if (body instanceof Uint8Array) yield Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  else for await (const chunk of body) yield typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

/** Collects chunks and hands them out as parts of a given size (the last may be shorter). */
class PartBuffer {
  private chunks: Buffer[] = [];
  private length = 0;

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.length += chunk.length;
  }

  holds(size: number): boolean {
    return this.length >= size;
  }

  /** Takes `size` bytes (or everything left, when undefined). */
  take(size?: number): Buffer {
    const concatenated = this.chunks.length > 1;
    const all = concatenated ? Buffer.concat(this.chunks, this.length) : this.chunks[0] ?? Buffer.alloc(0);
    const cut = size === undefined ? all.length : Math.min(size, all.length);
    // The remainder of a buffer made here is copied: a slice would keep the whole part's memory
    // alive while it uploads. The remainder of the caller's own chunk stays a view (it is alive
    // anyway): copying it at every cut made a 250 MB tensor cost gigabytes of copies.
    const left = all.length > cut ? (concatenated ? Buffer.from(all.subarray(cut)) : all.subarray(cut)) : undefined;
    this.chunks = left ? [left] : [];
    this.length = left?.length ?? 0;
    return all.subarray(0, cut);
  }
}

async function readBody(res: AsyncIterable<Buffer | string>): Promise<string> {
  let text = '';
  for await (const chunk of res) text += chunk.toString();
  return text;
}

/** CompleteMultipartUpload with If-None-Match (the minio client's own method cannot send headers). */
async function completeCreateOnly(client: Client, bucket: string, key: string, uploadId: string, etags: { part: number; etag: string }[]): Promise<void> {
  const parts = etags.map((e) => `<Part><PartNumber>${e.part}</PartNumber><ETag>${e.etag}</ETag></Part>`).join('');
  const xml = `<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${parts}</CompleteMultipartUpload>`;
  const res = await client.makeRequestAsync(
    { method: 'POST', bucketName: bucket, objectName: key, query: `uploadId=${encodeURIComponent(uploadId)}`, headers: { 'If-None-Match': '*' } },
    xml,
  );
  // S3 may answer 200 and still report an error in the body of a completion.
  const body = await readBody(res);
  const error = /<Error>[\s\S]*?<Code>([^<]+)<\/Code>(?:[\s\S]*?<Message>([^<]*)<\/Message>)?/.exec(body);
  if (error) throw Object.assign(new Error(`S3 CompleteMultipartUpload failed: ${error[1]} ${error[2] ?? ''}`.trim()), { code: error[1] });
}

/** Uploads `body` to `key` only if no object exists there; returns its size and sha256. */
export async function uploadCreateOnly(client: Client, bucket: string, key: string, body: UploadBody, options: UploadOptions = {}): Promise<ObjectDigest> {
  const basePartSize = Math.max(MIN_PART_SIZE, options.partSize ?? DEFAULT_PART_SIZE);
  const nextPartSize = () => partSizeFor(etags.length + 1, basePartSize);
  const headers = { 'If-None-Match': '*', 'Content-Type': options.contentType ?? 'application/octet-stream' };
  const hash = createHash('sha256');
  const parts = new PartBuffer();
  let size = 0;
  let uploadId: string | undefined;
  const etags: { part: number; etag: string }[] = [];
  // One part uploads while the next one fills: throughput without unbounded buffering.
  let inFlight: Promise<void> | undefined;

  const sendPart = async (payload: Buffer): Promise<void> => {
    uploadId ??= await client.initiateNewMultipartUpload(bucket, key, headers);
    const part = etags.length + 1;
    if (part > MAX_PARTS) throw new Error(`S3 object "${key}" would need more than ${MAX_PARTS} parts: use a larger part size`);
    const slot = { part, etag: '' };
    etags.push(slot);
    await inFlight;
    inFlight = client
      .uploadPart({ bucketName: bucket, objectName: key, uploadID: uploadId, partNumber: part, headers: {} }, payload)
      .then((r) => {
        slot.etag = r.etag;
      });
    // Surface a failed part at the next await instead of as an unhandled rejection.
    inFlight.catch(() => {});
  };

  try {
    for await (const chunk of chunksOf(body)) {
      hash.update(chunk);
      size += chunk.length;
      parts.push(chunk);
      while (parts.holds(nextPartSize())) await sendPart(parts.take(nextPartSize()));
    }
    if (uploadId === undefined) {
      await client.putObject(bucket, key, parts.take(), size, headers);
    } else {
      const last = parts.take();
      if (last.length > 0) await sendPart(last);
      await inFlight;
      await completeCreateOnly(client, bucket, key, uploadId, etags);
    }
  } catch (err) {
    if (uploadId !== undefined) await client.abortMultipartUpload(bucket, key, uploadId).catch(() => {});
    if (isPreconditionFailed(err)) throw new ObjectExistsError(key);
    throw err;
  }
  return { size, sha256: hash.digest('hex') };
}
