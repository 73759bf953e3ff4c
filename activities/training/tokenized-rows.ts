import type { ArtifactStore } from '../../infra/storage/index.ts';

// Tokenized rows as one binary object: Int32 little-endian [count, offset_0 … offset_count, ids…].
// Compact and fast to read back, and only its S3 key travels through Temporal.

export function encodeTokenizedRows(rows: readonly (readonly number[])[]): Uint8Array {
  const total = rows.reduce((n, r) => n + r.length, 0);
  const out = new Int32Array(1 + rows.length + 1 + total);
  out[0] = rows.length;
  let at = rows.length + 2;
  for (let i = 0; i < rows.length; i++) {
    out[1 + i] = at;
    out.set(rows[i], at);
    at += rows[i].length;
  }
  out[1 + rows.length] = at;
  return new Uint8Array(out.buffer);
}

export function decodeTokenizedRows(bytes: Uint8Array): Int32Array[] {
  if (bytes.byteLength % 4 !== 0) throw new Error('tokenized rows: length is not a multiple of 4');
  const all = new Int32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  const count = all[0];
  if (!(count >= 0) || count + 2 > all.length) throw new Error('tokenized rows: bad header');
  const rows: Int32Array[] = [];
  for (let i = 0; i < count; i++) rows.push(all.subarray(all[1 + i], all[2 + i]));
  return rows;
}

/** Reads one tokenized-rows file of a committed prefix back from S3, verified against its manifest. */
export async function downloadTokenizedRows(store: ArtifactStore, prefix: string, file: string): Promise<Int32Array[]> {
  const manifest = await store.readManifest(prefix);
  return decodeTokenizedRows(await store.getEntryBuffer(manifest, file));
}

/**
 * The rows of a run's slots that hold text: an empty slot (a row the preprocessing rejected, see
 * prepare-data.ts) has no token to predict and is left out of evaluation and audit.
 */
export function usableRows<R extends ArrayLike<number>>(slots: readonly R[]): R[] {
  return slots.filter((row) => row.length >= 2);
}
