// The committed golden fixture made by test/fixtures/gpt2/make_fixture.py with transformers.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const fixtureDir = fileURLToPath(new URL('../fixtures/gpt2/', import.meta.url));
export const tinyModelDir = `${fixtureDir}tiny`;

export interface Expected {
  tolerance: number;
  tokenizer_corpus: { text: string; ids: number[] }[];
  vocab_subset: number[];
  logits: { text: string; ids: number[]; subset_logits: number[][]; argmax: number[]; logsumexp: number[] }[];
  greedy_new_tokens: number;
  greedy: { prompt: string; new_ids: number[]; text: string }[];
}

export const expected = JSON.parse(readFileSync(`${fixtureDir}expected.json`, 'utf8')) as Expected;
