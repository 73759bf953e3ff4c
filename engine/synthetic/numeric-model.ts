// DP histograms of numeric columns over a clipped range.
//
// The range is public when the schema declares it. Otherwise part of the column's budget buys a
// histogram over fixed power-of-two buckets (±2^-20 … ±2^41, public bins), from which the 1st and
// 99th noisy percentiles give the range: a coarse but private stand-in for min and max, which
// must never be taken from the data as they are (the maximum is often one person's value).

import { noisyHistogram } from './noisy-release.ts';
import { splitAllowance, type Allowance, type BudgetLedger, type ColumnSchema } from './budget.ts';
import { sampleIndex, type RandomSource } from './random-source.ts';

const MIN_EXPONENT = -20;
const MAX_EXPONENT = 40;
const EXPONENTS = MAX_EXPONENT - MIN_EXPONENT + 1;
const ZERO_BUCKET = EXPONENTS;
const BUCKETS = 2 * EXPONENTS + 1;
const LINEAR_BINS = 32;
const MAX_UNIT_BINS = 64;

export interface NumericModel {
  readonly kind: 'number';
  readonly integer: boolean;
  readonly range: readonly [number, number];
  /** Whether the range was declared (public) or estimated under DP. */
  readonly rangeSource: 'declared' | 'estimated';
  /** One bin per integer of the range (small integer ranges), or equal-width bins. */
  readonly unitBins: boolean;
  /** Noisy counts of the bins over the range. */
  readonly binCounts: readonly number[];
  readonly nullCount: number;
}

function bucketOf(v: number): number {
  const magnitude = Math.abs(v);
  if (magnitude < 2 ** MIN_EXPONENT) return ZERO_BUCKET;
  const e = Math.min(MAX_EXPONENT, Math.max(MIN_EXPONENT, Math.floor(Math.log2(magnitude))));
  return v > 0 ? ZERO_BUCKET + 1 + (e - MIN_EXPONENT) : ZERO_BUCKET - 1 - (e - MIN_EXPONENT);
}

function bucketEdges(bucket: number): [number, number] {
  if (bucket === ZERO_BUCKET) return [-(2 ** MIN_EXPONENT), 2 ** MIN_EXPONENT];
  if (bucket > ZERO_BUCKET) {
    const e = bucket - ZERO_BUCKET - 1 + MIN_EXPONENT;
    return [2 ** e, 2 ** (e + 1)];
  }
  const e = ZERO_BUCKET - 1 - bucket + MIN_EXPONENT;
  return [-(2 ** (e + 1)), -(2 ** e)];
}

/** The 1st–99th percentile range read off noisy power-of-two bucket counts. */
function estimateRange(values: readonly number[], sigma: number, rng: RandomSource): [number, number] {
  const counts = new Float64Array(BUCKETS);
  for (const v of values) counts[bucketOf(v)]++;
  // Most of the 123 buckets are empty, and their positive noise alone would fill the tails: ignore
  // counts below 4σ (post-processing) before reading percentiles. At 3σ one empty bucket in
  // seven fits passed, and its count alone moved the 99th percentile by orders of magnitude.
  const noisy = noisyHistogram(counts, sigma, rng).map((c) => (c < 4 * sigma ? 0 : c));
  const total = noisy.reduce((s, c) => s + c, 0);
  if (total <= 0) return [0, 1];
  let cumulative = 0;
  let lo = Number.NaN;
  let hi = Number.NaN;
  for (let b = 0; b < BUCKETS; b++) {
    cumulative += noisy[b];
    if (Number.isNaN(lo) && cumulative >= 0.01 * total) lo = bucketEdges(b)[0];
    if (Number.isNaN(hi) && cumulative >= 0.99 * total) hi = bucketEdges(b)[1];
  }
  return [lo, hi];
}

export class NumericCollector {
  private readonly values: number[] = [];
  private nulls = 0;

  constructor(readonly column: ColumnSchema) {}

  add(value: unknown): void {
    if (typeof value === 'number' && Number.isFinite(value)) this.values.push(value);
    else this.nulls++;
  }

  fit(allowance: Allowance, rng: RandomSource, ledger: BudgetLedger): NumericModel {
    const integer = this.column.type === 'integer';
    const [forRange, forHistogram] = this.column.range
      ? [undefined, allowance]
      : splitAllowance(allowance, [{ name: '', weight: 0.3 }, { name: '', weight: 0.7 }]);
    let [lo, hi] = this.column.range ?? estimateRange(this.values, ledger.gaussian(forRange!, 'range').sigma, rng);
    if (integer) [lo, hi] = [Math.floor(lo), Math.ceil(hi)];
    if (!(hi > lo)) hi = lo + 1;
    const unitBins = integer && hi - lo + 1 <= MAX_UNIT_BINS;
    const bins = unitBins ? hi - lo + 1 : LINEAR_BINS;
    const counts = new Float64Array(bins + 1);
    for (const v of this.values) {
      const clipped = Math.min(hi, Math.max(lo, v));
      const bin = unitBins ? Math.round(clipped) - lo : Math.min(bins - 1, Math.floor(((clipped - lo) / (hi - lo)) * bins));
      counts[bin]++;
    }
    counts[bins] = this.nulls;
    const noisy = noisyHistogram(counts, ledger.gaussian(forHistogram, 'histogram').sigma, rng);
    return {
      kind: 'number', integer, range: [lo, hi], rangeSource: this.column.range ? 'declared' : 'estimated', unitBins,
      binCounts: noisy.slice(0, bins), nullCount: noisy[bins],
    };
  }
}

export function sampleNumber(model: NumericModel, rng: RandomSource): number | null {
  const weights = [...model.binCounts, model.nullCount].map((c) => Math.max(0, c));
  const total = weights.reduce((s, w) => s + w, 0);
  if (total <= 0) return null;
  const bin = sampleIndex(weights, total, rng);
  if (bin === model.binCounts.length) return null;
  const [lo, hi] = model.range;
  const bins = model.binCounts.length;
  if (model.unitBins) return lo + bin;
  const width = (hi - lo) / bins;
  const v = lo + (bin + rng.nextDouble()) * width;
  return model.integer ? Math.min(hi, Math.max(lo, Math.round(v))) : v;
}
