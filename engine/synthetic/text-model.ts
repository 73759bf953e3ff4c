// A DP word-bigram model of a text column.
//
// Fitting releases three things, each with bounded contribution per row:
//   - a vocabulary: a row proposes at most TEXT_KEYS_PER_ROW of its distinct words (a random
//     subset when it has more), each with weight 1/√m so the row's L2 contribution is 1; a word is
//     kept only if its noisy count clears the threshold. A word that only one row uses (a
//     patient's surname) is released with probability below the δ the plan allots to it;
//   - bigrams over that vocabulary (plus sentence start/end), bounded and thresholded the same way;
//   - a histogram of lengths in tokens (and of null values), over public bins.
// Sampling picks a length, then walks the bigrams, backing off to word frequencies where the
// bigrams say little. The result reads like the data's frequent phrasing, not like any row.

import { tokenize, detokenize } from './tokenize.ts';
import { noisyHistogram, thresholdedRelease } from './noisy-release.ts';
import { splitAllowance, TEXT_KEYS_PER_ROW, type Allowance, type BudgetLedger, type ColumnSchema } from './budget.ts';
import { sampleDistinct, sampleIndex, type RandomSource } from './random-source.ts';

const START = -1;
const END = -2;
const OUT_OF_VOCABULARY = -3;
const DEFAULT_MAX_TOKENS = 64;

export interface TextModel {
  readonly kind: 'text';
  readonly vocabulary: readonly string[];
  /** Noisy word counts, aligned with `vocabulary`. */
  readonly wordCounts: readonly number[];
  /** [previous, next, noisy count]; indices into `vocabulary`, −1 = start, −2 = end. */
  readonly bigrams: readonly (readonly [number, number, number])[];
  /** Noisy counts of rows by length in tokens (0..maxTokens), then of null values. */
  readonly lengthCounts: readonly number[];
  readonly nullCount: number;
  /** How much a bigram count must weigh before it is trusted over word frequencies. */
  readonly backoff: number;
}

/** Collects a text column's rows as token ids; the exact data never leaves this object. */
export class TextCollector {
  private readonly ids = new Map<string, number>();
  private readonly words: string[] = [];
  private readonly rows: (Int32Array | null)[] = [];

  constructor(readonly column: ColumnSchema) {}

  add(value: unknown): void {
    if (value === null || value === undefined) {
      this.rows.push(null);
      return;
    }
    const tokens = tokenize(typeof value === 'string' ? value : String(value));
    const row = new Int32Array(tokens.length);
    tokens.forEach((t, i) => {
      let id = this.ids.get(t);
      if (id === undefined) {
        id = this.words.length;
        this.ids.set(t, id);
        this.words.push(t);
      }
      row[i] = id;
    });
    this.rows.push(row);
  }

  fit(allowance: Allowance, rng: RandomSource, ledger: BudgetLedger): TextModel {
    // Words need the most: a word must be frequent enough to clear the threshold, and the
    // sequence model is what makes samples read like the data.
    const [forVocabulary, forBigrams, forLengths] = splitAllowance(allowance, [
      { name: '', weight: 0.35 }, { name: '', weight: 0.45 }, { name: '', weight: 0.2 },
    ]);
    const maxTokens = this.column.maxTokens ?? DEFAULT_MAX_TOKENS;

    // Vocabulary: bounded, weighted word proposals, then thresholded noisy counts.
    const wordWeights = new Map<string, number>();
    for (const row of this.rows) {
      if (!row || row.length === 0) continue;
      const distinct = [...new Set(row)];
      const chosen = distinct.length > TEXT_KEYS_PER_ROW ? sampleDistinct(distinct.length, TEXT_KEYS_PER_ROW, rng).map((i) => distinct[i]) : distinct;
      const weight = 1 / Math.sqrt(chosen.length);
      for (const id of chosen) {
        const word = this.words[id];
        wordWeights.set(word, (wordWeights.get(word) ?? 0) + weight);
      }
    }
    const keptWords = thresholdedRelease(wordWeights, ledger.thresholded(forVocabulary, 'vocabulary', TEXT_KEYS_PER_ROW), rng);
    keptWords.sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
    const vocabulary = keptWords.map(([w]) => w);
    const index = new Map(vocabulary.map((w, i) => [w, i]));

    // Bigrams over the released vocabulary, bounded and thresholded the same way.
    const stride = vocabulary.length + 2;
    const encode = (a: number, b: number) => (a + 2) * stride + (b + 2);
    const pairWeights = new Map<number, number>();
    for (const row of this.rows) {
      if (!row) continue;
      const sequence = [START, ...Array.from(row, (id) => index.get(this.words[id]) ?? OUT_OF_VOCABULARY), END];
      const pairs = new Set<number>();
      for (let i = 0; i + 1 < sequence.length; i++) {
        const [a, b] = [sequence[i], sequence[i + 1]];
        if (a !== OUT_OF_VOCABULARY && b !== OUT_OF_VOCABULARY) pairs.add(encode(a, b));
      }
      if (pairs.size === 0) continue;
      const distinct = [...pairs];
      const chosen = distinct.length > TEXT_KEYS_PER_ROW ? sampleDistinct(distinct.length, TEXT_KEYS_PER_ROW, rng).map((i) => distinct[i]) : distinct;
      const weight = 1 / Math.sqrt(chosen.length);
      for (const key of chosen) pairWeights.set(key, (pairWeights.get(key) ?? 0) + weight);
    }
    const bigramRelease = ledger.thresholded(forBigrams, 'bigrams', TEXT_KEYS_PER_ROW);
    const bigrams = thresholdedRelease(pairWeights, bigramRelease, rng).map(([key, count]) =>
      [Math.floor(key / stride) - 2, (key % stride) - 2, count] as const);

    // Lengths (clipped) and nulls: one bin per row, public bins.
    const lengthBins = new Float64Array(maxTokens + 2);
    for (const row of this.rows) lengthBins[row ? Math.min(row.length, maxTokens) : maxTokens + 1]++;
    const noisyLengths = noisyHistogram(lengthBins, ledger.gaussian(forLengths, 'lengths').sigma, rng);

    return {
      kind: 'text',
      vocabulary,
      wordCounts: keptWords.map(([, c]) => c),
      bigrams,
      lengthCounts: noisyLengths.slice(0, maxTokens + 1),
      nullCount: noisyLengths[maxTokens + 1],
      backoff: bigramRelease.sigma,
    };
  }
}

interface Successors {
  readonly next: number[];
  readonly counts: number[];
  readonly total: number;
}

/** Samples text values from a fitted model; builds its lookup tables once. */
export class TextSampler {
  private readonly successors = new Map<number, Successors>();
  private readonly wordTotal: number;
  private readonly lengthWeights: number[];
  private readonly lengthTotal: number;

  constructor(private readonly model: TextModel) {
    for (const [a, b, c] of model.bigrams) {
      if (b === END || c <= 0) continue;
      const s = this.successors.get(a) ?? { next: [], counts: [], total: 0 };
      s.next.push(b);
      s.counts.push(c);
      this.successors.set(a, { ...s, total: s.total + c });
    }
    this.wordTotal = model.wordCounts.reduce((s, c) => s + Math.max(0, c), 0);
    this.lengthWeights = [...model.lengthCounts.map((c) => Math.max(0, c)), Math.max(0, model.nullCount)];
    this.lengthTotal = this.lengthWeights.reduce((s, c) => s + c, 0);
  }

  sample(rng: RandomSource): string | null {
    if (this.lengthTotal <= 0) return null;
    const bin = sampleIndex(this.lengthWeights, this.lengthTotal, rng);
    if (bin === this.lengthWeights.length - 1) return null;
    if (this.wordTotal <= 0) return '';
    const tokens: string[] = [];
    let previous = START;
    for (let i = 0; i < bin; i++) {
      const s = this.successors.get(previous);
      const trustBigrams = s ? s.total / (s.total + this.model.backoff) : 0;
      const word = s && rng.nextDouble() < trustBigrams
        ? s.next[sampleIndex(s.counts, s.total, rng)]
        : sampleIndex(this.model.wordCounts, this.wordTotal, rng);
      tokens.push(this.model.vocabulary[word]);
      previous = word;
    }
    return detokenize(tokens);
  }
}
