// Reads a safetensors stream straight into the arrays the caller provides: the header first, then
// each tensor's bytes copied where they belong as the chunks pass, so no buffer of the whole
// file (or even of one tensor) is ever built. Used for checkpoint shards and single-file
// checkpoints coming out of S3.
import { CheckpointFormatError } from './checkpoint-codec.ts';

export interface SafetensorsEntry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

/** A safetensors header: tensor name → entry, and `__metadata__` → strings. */
export type SafetensorsHeaderJson = Record<string, unknown> & { __metadata__?: Record<string, string> };

/** Headers this large are not ours (and must not be read into memory). */
const MAX_HEADER_BYTES = 64 * 1024 * 1024;

interface Range {
  begin: number;
  end: number;
  target: Uint8Array;
}

/** The entries of a header, without its metadata. */
export function headerEntries(header: SafetensorsHeaderJson): [string, SafetensorsEntry][] {
  return Object.entries(header).filter(([name]) => name !== '__metadata__') as [string, SafetensorsEntry][];
}

/**
 * Streams `source` (a safetensors file) into the byte views `targetsFor` returns once the header
 * is known (tensor name → destination of exactly the tensor's length; tensors it leaves out are
 * skipped). Fails when the file is truncated, too long, or a range does not fit its destination.
 */
export async function readSafetensorsStream(
  source: AsyncIterable<Uint8Array>,
  targetsFor: (header: SafetensorsHeaderJson) => Map<string, Uint8Array>,
  what: string,
): Promise<SafetensorsHeaderJson> {
  let pending: Buffer[] = [];
  let pendingLength = 0;
  let headerLength: number | undefined;
  let header: SafetensorsHeaderJson | undefined;
  let ranges: Range[] = [];
  let dataLength = 0;
  let position = 0; // within the data section
  let next = 0; // first range that may still receive bytes

  const take = (): Buffer => {
    const all = pending.length === 1 ? pending[0] : Buffer.concat(pending, pendingLength);
    pending = [];
    pendingLength = 0;
    return all;
  };

  const parseHeader = (bytes: Buffer): void => {
    try {
      header = JSON.parse(bytes.toString('utf8')) as SafetensorsHeaderJson;
    } catch (error) {
      throw new CheckpointFormatError(`${what}: header is not JSON (${(error as Error).message})`);
    }
    const entries = headerEntries(header);
    dataLength = entries.reduce((max, [, e]) => Math.max(max, e.data_offsets?.[1] ?? 0), 0);
    const targets = targetsFor(header);
    for (const [name, target] of targets) {
      const entry = header[name] as SafetensorsEntry | undefined;
      if (!entry) throw new CheckpointFormatError(`${what}: tensor ${name} is missing`);
      const [begin, end] = entry.data_offsets;
      if (!(begin >= 0 && end - begin === target.byteLength)) throw new CheckpointFormatError(`${what}: tensor ${name} spans ${end - begin} bytes, expected ${target.byteLength}`);
      ranges.push({ begin, end, target });
    }
    ranges = ranges.sort((a, b) => a.begin - b.begin);
    for (let k = 1; k < ranges.length; k++) if (ranges[k].begin < ranges[k - 1].end) throw new CheckpointFormatError(`${what}: tensors overlap`);
  };

  const consumeData = (chunk: Uint8Array): void => {
    const start = position;
    const stop = position + chunk.byteLength;
    if (stop > dataLength) throw new CheckpointFormatError(`${what}: more bytes than its header describes`);
    while (next < ranges.length && ranges[next].end <= start) next++;
    for (let k = next; k < ranges.length && ranges[k].begin < stop; k++) {
      const { begin, end, target } = ranges[k];
      const from = Math.max(begin, start);
      const to = Math.min(end, stop);
      if (to > from) target.set(chunk.subarray(from - start, to - start), from - begin);
    }
    position = stop;
  };

  for await (const raw of source) {
    const chunk = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
    if (header !== undefined) {
      consumeData(chunk);
      continue;
    }
    pending.push(chunk);
    pendingLength += chunk.length;
    if (headerLength === undefined && pendingLength >= 8) {
      const all = take();
      headerLength = Number(all.readBigUInt64LE(0));
      if (headerLength <= 0 || headerLength > MAX_HEADER_BYTES) throw new CheckpointFormatError(`${what}: not a safetensors file (header length ${headerLength})`);
      pending = [all.subarray(8)];
      pendingLength = all.length - 8;
    }
    if (headerLength !== undefined && pendingLength >= headerLength) {
      const all = take();
      parseHeader(all.subarray(0, headerLength));
      if (all.length > headerLength) consumeData(all.subarray(headerLength));
    }
  }
  if (header === undefined) throw new CheckpointFormatError(`${what}: ends before its header does`);
  if (position !== dataLength) throw new CheckpointFormatError(`${what}: truncated (${position} of ${dataLength} data bytes)`);
  return header;
}
