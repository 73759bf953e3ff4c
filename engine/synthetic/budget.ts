// How the owner's (ε, δ) for a twin is spent. The plan depends on the schema only, never on the
// data, so it is itself public and recorded in the model.
//
// Accounting (see gaussian-dp.ts):
//   - every release is a Gaussian mechanism with L2 sensitivity 1 per row; together they are
//     μ-GDP with μ² = Σ μᵢ², and μ is the largest value for which μ-GDP implies (ε, δ/2);
//   - releases of keys proposed by the data (words, bigrams, category values) are thresholded:
//     each may release a key that only the added row has with probability δᵢ. With all of them
//     together at most (δ/2)·e^{−ε}, the whole fit is (ε, δ/2 + e^ε · (δ/2)e^{−ε}) = (ε, δ)-DP:
//     outside an event of probability Σδᵢ the output is that of the pure Gaussian composition.
//   - the budget is shared equally between modelled columns, then between a column's releases by
//     fixed weights (below); μᵢ = μ·√(share).

import { gdpMuFor, releaseThreshold } from './gaussian-dp.ts';

export type ColumnType = 'string' | 'number' | 'integer' | 'boolean' | 'null';

export interface ColumnSchema {
  readonly name: string;
  readonly type: ColumnType;
  /** Strings: free text (default) or a category (a short value from a set nobody published). */
  readonly role?: 'text' | 'category';
  /** Numbers: a public range [min, max]; values are clipped to it. Without one, part of the
   * column's budget estimates it from the data. */
  readonly range?: readonly [number, number];
  /** Text: the longest length, in tokens, that the length model distinguishes (default 64). */
  readonly maxTokens?: number;
}

export interface TwinSchema {
  readonly columns: readonly ColumnSchema[];
}

/** What one release costs and, for thresholded ones, the bound on a row's keys. */
export interface Release {
  readonly column: string;
  readonly what: 'vocabulary' | 'bigrams' | 'lengths' | 'values' | 'range' | 'histogram';
  /** Noise standard deviation (the L2 sensitivity of every release is 1). */
  readonly sigma: number;
  /** Thresholded releases: at most this many keys per row, and the release threshold. */
  readonly maxKeysPerRow?: number;
  readonly threshold?: number;
  readonly thresholdDelta?: number;
}

export interface BudgetPlan {
  readonly epsilon: number;
  readonly delta: number;
  readonly accounting: string;
  readonly mu: number;
  readonly deltaGaussian: number;
  readonly deltaThresholds: number;
  readonly releases: readonly Release[];
}

/** Keys a row may contribute to the vocabulary and to the bigrams. A row with m ≤ 64 distinct
 * keys gives each 1/√m; a larger bound only raises the threshold slightly (the δ per key
 * shrinks), so it is set above the length of most sentences. */
export const TEXT_KEYS_PER_ROW = 64;

interface PlannedRelease {
  readonly what: Release['what'];
  readonly weight: number;
  readonly maxKeysPerRow?: number;
}

function releasesOf(column: ColumnSchema): PlannedRelease[] {
  switch (column.type) {
    case 'null': return [];
    case 'boolean': return [{ what: 'values', weight: 1 }];
    case 'number': case 'integer':
      return column.range
        ? [{ what: 'histogram', weight: 1 }]
        : [{ what: 'range', weight: 0.3 }, { what: 'histogram', weight: 0.7 }];
    case 'string':
      if (column.role === 'category') return [{ what: 'values', weight: 1, maxKeysPerRow: 1 }];
      // Words need the most: a word must be frequent enough to clear the threshold, and the
      // sequence model is what makes samples read like the data.
      return [
        { what: 'vocabulary', weight: 0.35, maxKeysPerRow: TEXT_KEYS_PER_ROW },
        { what: 'bigrams', weight: 0.45, maxKeysPerRow: TEXT_KEYS_PER_ROW },
        { what: 'lengths', weight: 0.2 },
      ];
  }
}

export function planBudget(schema: TwinSchema, epsilon: number, delta: number): BudgetPlan {
  if (!(epsilon > 0) || !Number.isFinite(epsilon)) throw new RangeError('the twin needs a finite ε > 0');
  if (!(delta > 0 && delta < 1)) throw new RangeError('the twin needs 0 < δ < 1');
  const names = new Set<string>();
  for (const c of schema.columns) {
    if (names.has(c.name)) throw new Error(`column ${c.name} appears twice in the schema`);
    names.add(c.name);
    if (c.range && !(c.range[0] <= c.range[1])) throw new RangeError(`column ${c.name}: range must be [min, max]`);
  }
  const planned = schema.columns.map((c) => ({ column: c, releases: releasesOf(c) }));
  const modelled = planned.filter((p) => p.releases.length > 0).length;
  const thresholded = planned.reduce((n, p) => n + p.releases.filter((r) => r.maxKeysPerRow !== undefined).length, 0);
  const deltaGaussian = delta / 2;
  const deltaThresholds = (delta / 2) * Math.exp(-epsilon);
  const mu = gdpMuFor(epsilon, deltaGaussian);
  const releases: Release[] = [];
  for (const { column, releases: rs } of planned) {
    for (const r of rs) {
      const sigma = 1 / (mu * Math.sqrt(r.weight / modelled));
      if (r.maxKeysPerRow === undefined) {
        releases.push({ column: column.name, what: r.what, sigma });
      } else {
        const thresholdDelta = deltaThresholds / thresholded;
        releases.push({
          column: column.name, what: r.what, sigma, maxKeysPerRow: r.maxKeysPerRow, thresholdDelta,
          threshold: releaseThreshold(sigma, r.maxKeysPerRow, thresholdDelta),
        });
      }
    }
  }
  return {
    epsilon, delta, mu, deltaGaussian, deltaThresholds, releases,
    accounting: 'Gaussian mechanisms composed as μ-GDP (exact), converted to (ε, δ/2); thresholded key releases add e^ε·Σδᵢ = δ/2',
  };
}

export function releaseFor(plan: BudgetPlan, column: string, what: Release['what']): Release {
  const r = plan.releases.find((x) => x.column === column && x.what === what);
  if (!r) throw new Error(`internal: no ${what} release planned for column ${column}`);
  return r;
}
