// Hugging Face tokenizer files (vocab.json, merges.txt, tokenizer_config.json,
// special_tokens_map.json) rebuilt from the ranks the npm package ships, so a saved Veil model
// opens with transformers' AutoTokenizer without any download.
import { END_OF_TEXT, END_OF_TEXT_ID, gpt2TokenBytes } from './gpt2-tokenizer.ts';

/** GPT-2's reversible byte → printable character map (bytes_to_unicode in the original encoder.py). */
export function byteToUnicode(): string[] {
  const printable: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) printable.push(b);
  for (let b = 0xa1; b <= 0xac; b++) printable.push(b);
  for (let b = 0xae; b <= 0xff; b++) printable.push(b);
  const map: string[] = new Array<string>(256);
  for (const b of printable) map[b] = String.fromCharCode(b);
  let n = 0;
  for (let b = 0; b < 256; b++) if (map[b] === undefined) map[b] = String.fromCharCode(256 + n++);
  return map;
}

const latin1 = (bytes: Uint8Array): string => String.fromCharCode(...bytes);

/**
 * Recovers GPT-2's merge list from its ranks: token r (≥ 256) is made by the merge that byte-pair
 * encoding with only the ranks below r ends with, which leaves exactly two parts.
 */
export function gpt2Merges(): [Uint8Array, Uint8Array][] {
  const tokens = gpt2TokenBytes().slice(0, END_OF_TEXT_ID);
  const rank = new Map<string, number>();
  tokens.forEach((t, i) => rank.set(latin1(t), i));
  const merges: [Uint8Array, Uint8Array][] = [];
  for (let r = 256; r < tokens.length; r++) {
    let parts = [...tokens[r]].map((b) => String.fromCharCode(b));
    for (;;) {
      let best = -1;
      let bestRank = r;
      for (let i = 0; i + 1 < parts.length; i++) {
        const pr = rank.get(parts[i] + parts[i + 1]);
        if (pr !== undefined && pr < bestRank) {
          bestRank = pr;
          best = i;
        }
      }
      if (best < 0) break;
      parts = [...parts.slice(0, best), parts[best] + parts[best + 1], ...parts.slice(best + 2)];
    }
    if (parts.length !== 2) throw new Error(`cannot recover the merge that makes GPT-2 token ${r}`);
    merges.push([Uint8Array.from(parts[0], (c) => c.charCodeAt(0)), Uint8Array.from(parts[1], (c) => c.charCodeAt(0))]);
  }
  return merges;
}

/** The files, by name, with their text. */
export function gpt2TokenizerFiles(modelMaxLength = 1024): Record<string, string> {
  const map = byteToUnicode();
  const show = (bytes: Uint8Array) => Array.from(bytes, (b) => map[b]).join('');
  const vocab: Record<string, number> = {};
  gpt2TokenBytes().forEach((t, id) => {
    vocab[id === END_OF_TEXT_ID ? END_OF_TEXT : show(t)] = id;
  });
  const merges = ['#version: 0.2', ...gpt2Merges().map(([a, b]) => `${show(a)} ${show(b)}`)].join('\n') + '\n';
  const special = { bos_token: END_OF_TEXT, eos_token: END_OF_TEXT, unk_token: END_OF_TEXT };
  const config = {
    tokenizer_class: 'GPT2Tokenizer',
    add_prefix_space: false,
    model_max_length: modelMaxLength,
    ...special,
    added_tokens_decoder: {
      [String(END_OF_TEXT_ID)]: { content: END_OF_TEXT, lstrip: false, normalized: true, rstrip: false, single_word: false, special: true },
    },
  };
  return {
    'vocab.json': JSON.stringify(vocab),
    'merges.txt': merges,
    'tokenizer_config.json': JSON.stringify(config, null, 2),
    'special_tokens_map.json': JSON.stringify(special, null, 2),
  };
}
