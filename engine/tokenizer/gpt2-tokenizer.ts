// GPT-2's byte-level BPE tokenizer. Encoding is gpt-tokenizer's r50k_base (the vocabulary ships in
// the npm package, nothing is downloaded); <|endoftext|> in the text is the special token 50256,
// as in Hugging Face's GPT-2 tokenizer. Decoding maps ids to their bytes and reads them as UTF-8
// with U+FFFD for broken sequences, as Hugging Face's decode(errors='replace') does.
import r50k from 'gpt-tokenizer/encoding/r50k_base';
import bpeRanks from 'gpt-tokenizer/bpeRanks/r50k_base';

export const END_OF_TEXT = '<|endoftext|>';
export const END_OF_TEXT_ID = 50256;

const utf8 = new TextEncoder();

let tokenBytes: Uint8Array[] | undefined;

/** The bytes of every token id, in id order (ids equal BPE ranks in GPT-2); the last is <|endoftext|>. */
export function gpt2TokenBytes(): readonly Uint8Array[] {
  if (!tokenBytes) {
    tokenBytes = bpeRanks.map((t) => (typeof t === 'string' ? utf8.encode(t) : Uint8Array.from(t)));
    if (tokenBytes.length !== END_OF_TEXT_ID) throw new Error(`gpt-tokenizer r50k_base has ${tokenBytes.length} ranks, expected ${END_OF_TEXT_ID}`);
    tokenBytes.push(utf8.encode(END_OF_TEXT));
  }
  return tokenBytes;
}

/** Token ids of `text`; each literal <|endoftext|> becomes the special token, as in Hugging Face. */
export function encode(text: string): number[] {
  // Split on the special token ourselves (as Hugging Face does with added tokens) and encode
  // the plain segments; gpt-tokenizer 4.0's allowedSpecial does not take effect for r50k_base.
  const ids: number[] = [];
  text.split(END_OF_TEXT).forEach((segment, i) => {
    if (i > 0) ids.push(END_OF_TEXT_ID);
    if (segment.length > 0) ids.push(...r50k.encode(segment));
  });
  return ids;
}

export function decode(ids: Iterable<number>): string {
  const table = gpt2TokenBytes();
  const parts: Uint8Array[] = [];
  let size = 0;
  for (const id of ids) {
    const bytes = table[id];
    if (bytes === undefined) throw new RangeError(`token id ${id} is outside GPT-2's vocabulary`);
    parts.push(bytes);
    size += bytes.length;
  }
  const all = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    all.set(p, at);
    at += p.length;
  }
  return new TextDecoder('utf-8', { fatal: false }).decode(all);
}
