// The GPT-2 tokenizer against Hugging Face's (ids in the golden fixture) and against GPT-2's real
// vocab.json / merges.txt (pinned digests of their contents).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { decode, encode, END_OF_TEXT_ID } from '../../engine/tokenizer/gpt2-tokenizer.ts';
import { byteToUnicode, gpt2TokenizerFiles } from '../../engine/tokenizer/hf-files.ts';
import { expected } from './fixture.ts';

// sha256 of "token\tid\n" lines in id order, and of the merge lines without the header, computed
// from GPT-2's files (see make_fixture.py for where those come from).
const REAL_VOCAB_DIGEST = 'f02ddc2b80f00a7a92dbedbda8398997583856aa194291c9e14392729131812f';
const REAL_MERGES_DIGEST = 'ac33235097fe06d4a8fff0feac994644809e6eb6ab70669e1e9fd40ae032428e';

void test('ids equal Hugging Face GPT-2 on the corpus (accents, emoji, whitespace runs, <|endoftext|>)', () => {
  assert.ok(expected.tokenizer_corpus.length >= 10);
  for (const { text, ids } of expected.tokenizer_corpus) assert.deepEqual(encode(text), ids, JSON.stringify(text));
});

void test('decode inverts encode, and <|endoftext|> is one special token', () => {
  for (const { text } of expected.tokenizer_corpus) assert.equal(decode(encode(text)), text);
  assert.deepEqual(encode('<|endoftext|>'), [END_OF_TEXT_ID]);
  assert.deepEqual(encode(''), []);
});

void test('decoding a token that splits a UTF-8 character gives U+FFFD, as errors="replace" does', () => {
  const ids = encode('👋');
  assert.ok(ids.length > 1);
  assert.equal(decode(ids.slice(0, 1)), '\uFFFD');
  assert.throws(() => decode([50257]), RangeError);
});

void test('vocab.json and merges.txt rebuilt from the npm ranks equal GPT-2\'s files', () => {
  const files = gpt2TokenizerFiles();
  const vocab = JSON.parse(files['vocab.json']) as Record<string, number>;
  assert.equal(Object.keys(vocab).length, 50257);
  const canonical = Object.entries(vocab).sort((a, b) => a[1] - b[1]).map(([k, v]) => `${k}\t${v}\n`).join('');
  assert.equal(createHash('sha256').update(canonical).digest('hex'), REAL_VOCAB_DIGEST);
  const [header, ...merges] = files['merges.txt'].split('\n');
  assert.equal(header, '#version: 0.2');
  const body = merges.filter((l) => l.length > 0).join('\n') + '\n';
  assert.equal(createHash('sha256').update(body).digest('hex'), REAL_MERGES_DIGEST);
});

void test('byte_to_unicode is a bijection onto printable characters', () => {
  const map = byteToUnicode();
  assert.equal(new Set(map).size, 256);
  assert.equal(map[0x20], 'Ġ');
  assert.equal(map[0x0a], 'Ċ');
  assert.equal(map[0x41], 'A');
});
