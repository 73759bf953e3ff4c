// Extraction attack (Carlini et al. 2021, in its simplest, targeted form): prompt the model with
// the beginning of a secret and see whether the rest comes back, greedily (the model's single most
// likely continuation) and by sampling at temperature 1 (what a user of the model would see).
import { generateTokens } from '../gpt2/generate.ts';
import type { Gpt2Model } from '../gpt2/model.ts';
import { END_OF_TEXT_ID, decode, encode } from '../tokenizer/gpt2-tokenizer.ts';

export interface ExtractionSpec {
  /** The prompt: the secret's first words, e.g. "François Dupont suffers". */
  prefix: string;
  /** The whole secret; must start with `prefix`. */
  secret: string;
  /** Rare words of the remainder whose appearance alone is a leak (default: its longest word). */
  keyWords?: readonly string[];
  /** Sampled completions at temperature 1 (default 5), besides the greedy one. */
  samples?: number;
  /** Seed of the sampling streams (the audit is reproducible). */
  seed: string;
  /** Default: the remainder's token count + 8. */
  maxNewTokens?: number;
}

export interface Completion {
  mode: 'greedy' | 'sampled';
  /** The generated continuation (without the prompt). */
  text: string;
  /** The whole remainder appears in the continuation (case and spacing ignored). */
  containsSecret: boolean;
  keyWordsFound: string[];
  /** Leading tokens of the remainder reproduced exactly, out of remainderTokens. */
  matchedTokens: number;
}

export interface Extraction {
  prefix: string;
  remainder: string;
  remainderTokens: number;
  keyWords: string[];
  temperature: number;
  greedy: Completion;
  sampled: Completion[];
  /** Completions (greedy included) containing the whole remainder / any key word. */
  fullMatches: number;
  keyWordMatches: number;
  completions: number;
}

export async function extractionAttack(model: Gpt2Model, spec: ExtractionSpec): Promise<Extraction> {
  if (!spec.secret.startsWith(spec.prefix) || spec.secret.length === spec.prefix.length) throw new Error('the extraction prefix must be a proper beginning of the secret');
  const remainder = spec.secret.slice(spec.prefix.length);
  const remainderIds = encode(remainder);
  const keyWords = [...(spec.keyWords ?? [longestWord(remainder)])];
  const samples = spec.samples ?? 5;
  const maxNewTokens = spec.maxNewTokens ?? remainderIds.length + 8;
  // The attacker types the secret's first words at the start of a document, as every row was
  // trained (<|endoftext|> text <|endoftext|>): that is where a memorised row comes back.
  const prompt = [END_OF_TEXT_ID, ...encode(spec.prefix)];
  const judge = (mode: Completion['mode'], tokens: number[]): Completion => {
    const text = decode(tokens);
    let matched = 0;
    while (matched < remainderIds.length && matched < tokens.length && tokens[matched] === remainderIds[matched]) matched++;
    return {
      mode,
      text,
      containsSecret: normalize(text).includes(normalize(remainder)),
      keyWordsFound: keyWords.filter((w) => normalize(text).includes(normalize(w))),
      matchedTokens: matched,
    };
  };
  const greedyRun = await generateTokens(model, [prompt], { maxNewTokens, temperature: 0, seed: spec.seed });
  const sampledRun = samples > 0 ? await generateTokens(model, Array.from({ length: samples }, () => prompt), { maxNewTokens, temperature: 1, topK: 0, topP: 1, seed: spec.seed }) : { tokens: [] };
  const greedy = judge('greedy', greedyRun.tokens[0]);
  const sampled = sampledRun.tokens.map((t) => judge('sampled', t));
  const all = [greedy, ...sampled];
  return {
    prefix: spec.prefix,
    remainder,
    remainderTokens: remainderIds.length,
    keyWords,
    temperature: 1,
    greedy,
    sampled,
    fullMatches: all.filter((c) => c.containsSecret).length,
    keyWordMatches: all.filter((c) => c.keyWordsFound.length > 0).length,
    completions: all.length,
  };
}

function normalize(s: string): string {
  return s.toLowerCase().replace(/\s+/g, ' ').trim();
}

function longestWord(text: string): string {
  const words = text.match(/\p{L}+/gu) ?? [];
  if (words.length === 0) throw new Error('the secret\'s remainder has no word to look for');
  return words.reduce((a, b) => (b.length > a.length ? b : a));
}
