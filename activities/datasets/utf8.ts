// Bytes → text, strictly: the whole file must be valid UTF-8. Chunks are checked with Node's
// native validator; only a chunk that fails is scanned byte by byte, to name the line of the
// first bad byte. A byte-order mark at the start is dropped.
import { isUtf8 } from 'node:buffer';
import { DatasetValidationError, lineRef } from './validation-error.ts';

/** Expected length of the sequence a lead byte starts (0 for a byte that cannot start one). */
function sequenceLength(lead: number): number {
  if (lead < 0x80) return 1;
  if (lead >= 0xc2 && lead <= 0xdf) return 2;
  if (lead >= 0xe0 && lead <= 0xef) return 3;
  if (lead >= 0xf0 && lead <= 0xf4) return 4;
  return 0;
}

/** Where the trailing, still incomplete sequence of `bytes` starts (bytes.length if none). */
function incompleteTailStart(bytes: Buffer): number {
  for (let back = 1; back <= Math.min(3, bytes.length); back++) {
    const b = bytes[bytes.length - back];
    if ((b & 0xc0) === 0x80) continue; // a continuation byte: look further back
    const len = sequenceLength(b);
    return len > back ? bytes.length - back : bytes.length;
  }
  return bytes.length;
}

/** Offset of the first byte that makes `bytes` invalid UTF-8 (bytes known to be invalid). */
export function firstInvalidOffset(bytes: Buffer): number {
  let i = 0;
  while (i < bytes.length) {
    const len = sequenceLength(bytes[i]);
    if (len === 0 || i + len > bytes.length) return i;
    if (len > 1 && !isUtf8(bytes.subarray(i, i + len))) return i;
    i += len;
  }
  return bytes.length;
}

function countNewlines(bytes: Buffer, end = bytes.length): number {
  let n = 0;
  for (let i = bytes.indexOf(10); i !== -1 && i < end; i = bytes.indexOf(10, i + 1)) n++;
  return n;
}

/** Decodes a byte stream as UTF-8 text, failing with the line of the first invalid byte. */
export async function* utf8Text(source: AsyncIterable<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder('utf-8');
  let carry: Buffer = Buffer.alloc(0);
  let newlinesBefore = 0;
  const invalid = (bytes: Buffer): never => {
    const at = firstInvalidOffset(bytes);
    throw new DatasetValidationError(`the file is not valid UTF-8: ${lineRef(newlinesBefore + countNewlines(bytes, at) + 1)} has an invalid byte sequence (re-save the file as UTF-8)`);
  };
  for await (const chunk of source) {
    const bytes = carry.length > 0 ? Buffer.concat([carry, chunk]) : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const cut = incompleteTailStart(bytes);
    const complete = bytes.subarray(0, cut);
    if (!isUtf8(complete)) invalid(complete);
    carry = Buffer.from(bytes.subarray(cut));
    newlinesBefore += countNewlines(complete);
    if (complete.length > 0) yield decoder.decode(complete, { stream: true });
  }
  if (carry.length > 0) invalid(carry);
  const rest = decoder.decode();
  if (rest.length > 0) yield rest;
}
