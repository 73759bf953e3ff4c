// Generated test data: deterministic pseudo-random bytes produced on the fly, so a test can
// stream hundreds of MB without ever holding them.
import { createCipheriv, createHash } from 'node:crypto';

/** `total` bytes of an AES-CTR keystream keyed by `seed`, in chunks of `chunkSize`. */
export async function* generatedBytes(total: number, seed: string, chunkSize = 1024 * 1024): AsyncGenerator<Buffer> {
  const key = createHash('sha256').update(seed).digest();
  const cipher = createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
  const zeros = Buffer.alloc(chunkSize);
  for (let sent = 0; sent < total; sent += chunkSize) {
    const n = Math.min(chunkSize, total - sent);
    yield cipher.update(n === chunkSize ? zeros : zeros.subarray(0, n));
  }
}

/** The sha256 of generatedBytes(total, seed), computed by generating them again. */
export async function generatedSha256(total: number, seed: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of generatedBytes(total, seed)) hash.update(chunk);
  return hash.digest('hex');
}
