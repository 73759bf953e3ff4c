// DP histograms of categorical columns: strings from a set nobody published (thresholded, so a
// value only one row has is not released) and booleans (public bins, no threshold needed).
import { noisyHistogram, thresholdedRelease } from './noisy-release.ts';
import type { Allowance, BudgetLedger, ColumnSchema } from './budget.ts';
import { sampleIndex, type RandomSource } from './random-source.ts';

/** Longer category values are cut: a category is a label, and a long one would carry more. */
const MAX_CATEGORY_CHARS = 200;

export interface CategoryModel {
  readonly kind: 'category';
  /** [value, noisy count]; `null` is the public key for missing values. */
  readonly values: readonly (readonly [string | boolean | null, number])[];
}

export class CategoryCollector {
  private readonly counts = new Map<string, number>();
  private nulls = 0;
  private readonly booleans = new Float64Array(2);

  constructor(readonly column: ColumnSchema) {}

  add(value: unknown): void {
    if (this.column.type === 'boolean') {
      if (typeof value === 'boolean') this.booleans[value ? 1 : 0]++;
      else this.nulls++;
      return;
    }
    if (value === null || value === undefined) {
      this.nulls++;
      return;
    }
    const key = (typeof value === 'string' ? value : JSON.stringify(value) ?? String(value)).slice(0, MAX_CATEGORY_CHARS);
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }

  fit(allowance: Allowance, rng: RandomSource, ledger: BudgetLedger): CategoryModel {
    if (this.column.type === 'boolean') {
      const release = ledger.gaussian(allowance, 'values');
      const [f, t, n] = noisyHistogram([this.booleans[0], this.booleans[1], this.nulls], release.sigma, rng);
      return { kind: 'category', values: [[false, f], [true, t], [null, n]] };
    }
    // One row adds 1 to exactly one key: the null key (public, always released) or a value.
    const release = ledger.thresholded(allowance, 'values', 1);
    const [nullCount] = noisyHistogram([this.nulls], release.sigma, rng);
    return { kind: 'category', values: [...thresholdedRelease(this.counts, release, rng), [null, nullCount]] };
  }
}

export function sampleCategory(model: CategoryModel, rng: RandomSource): string | boolean | null {
  const weights = model.values.map(([, c]) => Math.max(0, c));
  const total = weights.reduce((s, w) => s + w, 0);
  if (total <= 0) return null;
  return model.values[sampleIndex(weights, total, rng)][0];
}
