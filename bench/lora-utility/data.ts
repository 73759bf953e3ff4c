// The rows the utility bench trains and scores on, tokenized as a fine-tune tokenizes them.
//
// Private side: the demo's patient notes (clients/demo, the `veil demo` defaults: 2,000 rows, the
// secret in 10) split as the demo's fine-tunes split them (ratio 0.1, shuffle seed 'veil', through
// the pipeline's own splitOrder), each row <|endoftext|> text <|endoftext|> cut at 32 tokens. The
// 200 inserted audit canaries of the demo's runs are left out: they are audit machinery, not data.
// Learning rates are chosen on a validation set of 200 further notes drawn by the same generator
// under another seed, so the test rows the table reports are never used to choose anything.
//
// Public side: the PHEE pharmacovigilance sentences (../shared/data/phee, MIT, Sun et al. 2022),
// public medical text, for the base that is first trained without DP; the whole corpus as one
// token stream of <|endoftext|>-separated sentences, cut into windows of the private rows' length.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { splitOrder } from '../../activities/training/prepare-data.ts';
import { generatePatientNotes } from '../../clients/demo/patient-notes.ts';
import { END_OF_TEXT_ID, encode } from '../../engine/tokenizer/gpt2-tokenizer.ts';

/** The demo's model.maxSeqLen (clients/demo/run-demo.ts). */
export const MAX_SEQ_LEN = 32;
/** `veil demo`'s defaults (clients/cli/demo.ts). */
const DEMO_ROWS = 2000;
const DEMO_SECRET_COPIES = 10;
const VALIDATION_ROWS = 200;

export const PUBLIC_CORPUS = fileURLToPath(new URL('../../../shared/data/phee/train.jsonl', import.meta.url));

/** The fine-tune's layout (activities/training/prepare-data.ts): <|endoftext|> text <|endoftext|>, cut at maxSeqLen. */
export function tokenizeRow(text: string, maxSeqLen = MAX_SEQ_LEN): number[] {
  const ids = [END_OF_TEXT_ID, ...encode(text), END_OF_TEXT_ID];
  if (ids.length > maxSeqLen) ids.length = maxSeqLen;
  return ids;
}

export interface PrivateRows {
  train: number[][];
  /** Chooses each arm's learning rate. */
  validation: number[][];
  /** Reported. */
  test: number[][];
}

export function demoRows(): PrivateRows {
  const notes = generatePatientNotes({ rows: DEMO_ROWS, secretCopies: DEMO_SECRET_COPIES });
  const { train, test } = splitOrder(notes.length, { kind: 'ratio', testFraction: 0.1, shuffleSeed: 'veil' });
  const validation = generatePatientNotes({ rows: VALIDATION_ROWS, secretCopies: 0, seed: 'veil-bench-lora-utility-validation' });
  return {
    train: train.map((i) => tokenizeRow(notes[i].note)),
    validation: validation.map((r) => tokenizeRow(r.note)),
    test: test.map((i) => tokenizeRow(notes[i].note)),
  };
}

/** The public corpus as windows of `length` tokens (the last partial window dropped). */
export function publicWindows(length = MAX_SEQ_LEN, file = PUBLIC_CORPUS): number[][] {
  const stream: number[] = [END_OF_TEXT_ID];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    const { context } = JSON.parse(line) as { context: string };
    stream.push(...encode(context), END_OF_TEXT_ID);
  }
  const windows: number[][] = [];
  for (let at = 0; at + length <= stream.length; at += length) windows.push(stream.slice(at, at + length));
  return windows;
}
