// Hashing on the fly: uploads learn their sha256 and size while streaming, and downloads check
// theirs while streaming, so a multi-GB artifact is never held in memory to be hashed.
import { createHash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { IntegrityError } from './errors.ts';

/** What the manifest records about an object, and what a verified read checks. */
export interface ObjectDigest {
  size: number;
  sha256: string;
}

export function sha256Hex(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * Passes bytes through unchanged and fails the stream with an IntegrityError when they differ
 * from `expected`: as soon as there are too many bytes, else at the end (too few, or another
 * sha256). A consumer must therefore wait for the stream to finish without error (e.g. with
 * stream.pipeline) before trusting what it read; the last chunk goes out before the final check.
 */
export class VerifyingStream extends Transform {
  private readonly hash = createHash('sha256');
  private seen = 0;

  constructor(
    private readonly key: string,
    private readonly expected: ObjectDigest,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.seen += chunk.length;
    if (this.seen > this.expected.size) {
      callback(new IntegrityError(this.key, `more than the expected ${this.expected.size} bytes`));
      return;
    }
    this.hash.update(chunk);
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    if (this.seen !== this.expected.size) {
      callback(new IntegrityError(this.key, `read ${this.seen} bytes, expected ${this.expected.size}`));
      return;
    }
    const actual = this.hash.digest('hex');
    if (actual !== this.expected.sha256) {
      callback(new IntegrityError(this.key, `sha256 is ${actual}, expected ${this.expected.sha256}`));
      return;
    }
    callback();
  }
}
