// ISO dates (`1999-10-20`): DP histograms of the year, the month and the day over public bins.
//
// Each row adds 1 to one bin of each histogram (years outside the public span are clipped to its
// ends), so each release has L2 sensitivity 1. The parts are sampled independently: the preview
// has dates spread like the data's, never a date taken from a row.
import { noisyHistogram } from './noisy-release.ts';
import { splitAllowance, type Allowance, type BudgetLedger } from './budget.ts';
import { sampleIndex, type RandomSource } from './random-source.ts';
import { daysIn, parseDate } from './string-shapes.ts';

export const FIRST_YEAR = 1900;
export const LAST_YEAR = 2099;

export interface DateModel {
  readonly kind: 'date';
  readonly firstYear: number;
  /** Noisy counts per year from firstYear, per month (1–12) and per day of the month (1–31). */
  readonly years: readonly number[];
  readonly months: readonly number[];
  readonly days: readonly number[];
}

export function fitDates(values: readonly string[], allowance: Allowance, rng: RandomSource, ledger: BudgetLedger): DateModel {
  const years = new Float64Array(LAST_YEAR - FIRST_YEAR + 1);
  const months = new Float64Array(12);
  const days = new Float64Array(31);
  for (const v of values) {
    const parts = parseDate(v);
    if (!parts) continue;
    const [y, m, d] = parts;
    years[Math.min(LAST_YEAR, Math.max(FIRST_YEAR, y)) - FIRST_YEAR]++;
    months[m - 1]++;
    days[d - 1]++;
  }
  const [forYears, forMonths, forDays] = splitAllowance(allowance, [
    { name: '', weight: 0.5 }, { name: '', weight: 0.25 }, { name: '', weight: 0.25 },
  ]);
  // Most of the 200 years are empty, and their positive noise alone would spread dates over two
  // centuries (or over days the data never has): counts below 3σ are dropped (post-processing).
  const release = (counts: Float64Array, a: Allowance, what: 'years' | 'months' | 'days') => {
    const sigma = ledger.gaussian(a, what).sigma;
    return floor(noisyHistogram(counts, sigma, rng), 3 * sigma);
  };
  return {
    kind: 'date',
    firstYear: FIRST_YEAR,
    years: release(years, forYears, 'years'),
    months: release(months, forMonths, 'months'),
    days: release(days, forDays, 'days'),
  };
}

function floor(counts: number[], below: number): number[] {
  const kept = counts.map((c) => (c < below ? 0 : c));
  return kept.some((c) => c > 0) ? kept : counts;
}

function pick(counts: readonly number[], rng: RandomSource, fallback: number): number {
  const weights = counts.map((c) => Math.max(0, c));
  const total = weights.reduce((s, c) => s + c, 0);
  return total > 0 ? sampleIndex(weights, total, rng) : fallback;
}

export function sampleDate(model: DateModel, rng: RandomSource): string {
  const year = model.firstYear + pick(model.years, rng, 2000 - model.firstYear);
  const month = 1 + pick(model.months, rng, 0);
  const day = Math.min(1 + pick(model.days, rng, 0), daysIn(year, month));
  return `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}
