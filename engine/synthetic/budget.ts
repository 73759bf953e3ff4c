// How the owner's (ε, δ) for a twin is spent.
//
// Neighbouring datasets differ by adding or removing one row (the privacy unit of the twin).
//
// Accounting (see gaussian-dp.ts):
//   - every release is a Gaussian mechanism on counts with L2 sensitivity 1 per row; together they
//     are μ-GDP with μ² = Σ μᵢ², and μ is the largest value for which μ-GDP implies (ε, δ/2);
//   - releases of keys proposed by the data (words, bigrams, category values, JSON key lists,
//     id templates) are thresholded: each may release a key that only the added row has with
//     probability δᵢ. With Σδᵢ ≤ (δ/2)·e^{−ε}, the whole fit is (ε, δ/2 + e^ε·(δ/2)e^{−ε}) = (ε, δ):
//     outside an event of probability Σδᵢ the output is that of the pure Gaussian composition.
//
// The split is a tree of allowances. The top level depends on the schema only: columns share μ²
// equally. Below a string column the split is adaptive: the column first releases a noisy
// histogram of value shapes (JSON, date, id pattern, text), and what it releases next (a JSON
// object's keys, a date's parts, a text model) depends on that release. Adaptive composition of
// Gaussian DP holds (Dong, Roth & Su 2019, Thm 3.2) because, whatever an earlier release said,
// the releases that follow it split the remaining allowance, so on every branch Σ μᵢ² ≤ μ² and
// Σ δᵢ ≤ (δ/2)e^{−ε}. The releases actually made are recorded in the model (`privacy.releases`).

import { gdpMuFor, releaseThreshold } from './gaussian-dp.ts';

/** 'json' (nested values) and 'null' columns are not modelled: the twin leaves them null, or an
 * empty object where the schema says the column is never null. */
export type ColumnType = 'string' | 'number' | 'integer' | 'boolean' | 'json' | 'null';

export interface ColumnSchema {
  readonly name: string;
  readonly type: ColumnType;
  /** Strings: free text or structured (default: detected under DP), or a category (a short
   * value from a set nobody published). */
  readonly role?: 'text' | 'category';
  /** Numbers: a public range [min, max]; values are clipped to it. Without one, part of the
   * column's budget estimates it from the data. */
  readonly range?: readonly [number, number];
  /** Text: the longest length, in tokens, that the length model distinguishes (default 64). */
  readonly maxTokens?: number;
  /** false: the published schema says no row is null here, so the twin never draws a null (default true). */
  readonly nullable?: boolean;
}

export interface TwinSchema {
  readonly columns: readonly ColumnSchema[];
}

export type ReleaseKind =
  | 'vocabulary' | 'bigrams' | 'lengths' | 'values' | 'range' | 'histogram'
  | 'shapes' | 'keys' | 'types' | 'templates' | 'years' | 'months' | 'days';

/** What one release cost and, for thresholded ones, the bound on a row's keys. */
export interface Release {
  /** The column, or a path inside it (`context.text` is the `text` key of JSON in `context`). */
  readonly column: string;
  readonly what: ReleaseKind;
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
  /** The releases made, in order (filled by the fit). */
  readonly releases: readonly Release[];
}

/** A share of the budget: the μ its releases may compose to, and the δ its thresholds may use. */
export interface Allowance {
  readonly path: string;
  readonly mu: number;
  readonly thresholdDelta: number;
}

/** Spends allowances and records each release made. */
export class BudgetLedger {
  readonly releases: Release[] = [];

  /** A Gaussian release over public bins that uses the whole allowance. */
  gaussian(allowance: Allowance, what: ReleaseKind): Release {
    const release: Release = { column: allowance.path, what, sigma: 1 / allowance.mu };
    this.releases.push(release);
    return release;
  }

  /** A thresholded release of data-proposed keys (each row proposes at most `maxKeysPerRow`). */
  thresholded(allowance: Allowance, what: ReleaseKind, maxKeysPerRow: number): Release {
    const sigma = 1 / allowance.mu;
    const release: Release = {
      column: allowance.path, what, sigma, maxKeysPerRow, thresholdDelta: allowance.thresholdDelta,
      threshold: releaseThreshold(sigma, maxKeysPerRow, allowance.thresholdDelta),
    };
    this.releases.push(release);
    return release;
  }
}

/** Splits an allowance by weights: μᵢ² = μ²·wᵢ/Σw and δᵢ = δ·wᵢ/Σw, so the parts compose back. */
export function splitAllowance(allowance: Allowance, parts: readonly { readonly name: string; readonly weight: number }[]): Allowance[] {
  const total = parts.reduce((s, p) => s + p.weight, 0);
  if (!(total > 0)) throw new Error('internal: an allowance split needs a positive weight');
  return parts.map((p) => ({
    path: p.name ? `${allowance.path}.${p.name}` : allowance.path,
    mu: allowance.mu * Math.sqrt(p.weight / total),
    thresholdDelta: (allowance.thresholdDelta * p.weight) / total,
  }));
}

/** Keys a row may contribute to the vocabulary and to the bigrams. A row with m ≤ 64 distinct
 * keys gives each 1/√m; a larger bound only raises the threshold slightly (the δ per key
 * shrinks), so it is set above the length of most sentences. */
export const TEXT_KEYS_PER_ROW = 64;

export interface ColumnAllowances {
  readonly plan: Omit<BudgetPlan, 'releases'>;
  /** One allowance per column of the schema (unused by `null` columns). */
  readonly columns: readonly Allowance[];
}

function isModelled(column: ColumnSchema): boolean {
  return column.type !== 'null' && column.type !== 'json';
}

/** The top of the tree: depends on the schema only. */
export function planBudget(schema: TwinSchema, epsilon: number, delta: number): ColumnAllowances {
  if (!(epsilon > 0) || !Number.isFinite(epsilon)) throw new RangeError('the twin needs a finite ε > 0');
  if (!(delta > 0 && delta < 1)) throw new RangeError('the twin needs 0 < δ < 1');
  const names = new Set<string>();
  for (const c of schema.columns) {
    if (names.has(c.name)) throw new Error(`column ${c.name} appears twice in the schema`);
    names.add(c.name);
    if (c.range && !(c.range[0] <= c.range[1])) throw new RangeError(`column ${c.name}: range must be [min, max]`);
  }
  const modelled = schema.columns.filter(isModelled).length;
  const deltaGaussian = delta / 2;
  const deltaThresholds = (delta / 2) * Math.exp(-epsilon);
  const mu = gdpMuFor(epsilon, deltaGaussian);
  const columns = schema.columns.map((c) => (isModelled(c)
    ? { path: c.name, mu: mu / Math.sqrt(modelled), thresholdDelta: deltaThresholds / modelled }
    : { path: c.name, mu: 0, thresholdDelta: 0 }));
  return {
    plan: {
      epsilon, delta, mu, deltaGaussian, deltaThresholds,
      accounting: 'Gaussian mechanisms composed adaptively as μ-GDP (exact), converted to (ε, δ/2); thresholded key releases add e^ε·Σδᵢ ≤ δ/2; neighbours differ by one row',
    },
    columns,
  };
}

export function releaseFor(releases: readonly Release[], column: string, what: ReleaseKind): Release {
  const r = releases.find((x) => x.column === column && x.what === what);
  if (!r) throw new Error(`internal: no ${what} release made for ${column}`);
  return r;
}
