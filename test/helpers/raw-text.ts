// What an attacker reading a history raw sees: every string and byte field of a protobuf message,
// bytes as latin1 (Buffer.toJSON would hide them as numbers).
export function rawText(value: unknown): string {
  if (value instanceof Uint8Array) return Buffer.from(value).toString('latin1');
  if (Array.isArray(value)) return value.map(rawText).join('\n');
  if (value && typeof value === 'object') return Object.entries(value).map(([k, v]) => `${k}:${rawText(v)}`).join('\n');
  return String(value);
}
