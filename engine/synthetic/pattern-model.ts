// Ids and codes (`8908396_3`, `AB-1234`): a DP histogram of character-class templates.
//
// A value becomes its template: runs of digits, capitals and small letters become classes with
// their lengths (`\d{7}_\d`), other characters stay literal. Each row proposes one template; the
// noisy counts are thresholded, so a template only a few rows share is not released. Samples fill
// a released template with random characters: the shape of the ids, none of their values.
import { thresholdedRelease } from './noisy-release.ts';
import type { Allowance, BudgetLedger } from './budget.ts';
import { sampleIndex, type RandomSource } from './random-source.ts';

export interface PatternModel {
  readonly kind: 'pattern';
  /** [template, noisy count], e.g. ['\\d{7}_\\d', 1503.2]. */
  readonly templates: readonly (readonly [string, number])[];
}

const CLASSES: readonly { readonly test: RegExp; readonly name: string; readonly alphabet: string }[] = [
  { test: /[0-9]/, name: '\\d', alphabet: '0123456789' },
  { test: /[A-Z]/, name: '[A-Z]', alphabet: 'ABCDEFGHIJKLMNOPQRSTUVWXYZ' },
  { test: /[a-z]/, name: '[a-z]', alphabet: 'abcdefghijklmnopqrstuvwxyz' },
];
const REGEX_SPECIAL = /[.+\\[\]{}()*?^$|]/;

/** The template of a value, written as a regular expression that matches it. */
export function templateOf(value: string): string {
  let out = '';
  for (let i = 0; i < value.length;) {
    const cls = CLASSES.find((c) => c.test.test(value[i]));
    if (!cls) {
      out += REGEX_SPECIAL.test(value[i]) ? `\\${value[i]}` : value[i];
      i++;
      continue;
    }
    let j = i;
    while (j < value.length && cls.test.test(value[j])) j++;
    out += j - i === 1 ? cls.name : `${cls.name}{${j - i}}`;
    i = j;
  }
  return out;
}

const PART = /\\d(?:\{(\d+)\})?|\[A-Z\](?:\{(\d+)\})?|\[a-z\](?:\{(\d+)\})?|\\(.)|(.)/g;

/** A random value matching a template: the first digit of a multi-digit run is never 0, as in
 * most ids and numbers. */
export function fillTemplate(template: string, rng: RandomSource): string {
  let out = '';
  for (const m of template.matchAll(PART)) {
    const literal = m[4] ?? m[5];
    if (literal !== undefined) {
      out += literal;
      continue;
    }
    const cls = m[0].startsWith('\\d') ? CLASSES[0] : m[0].startsWith('[A-Z]') ? CLASSES[1] : CLASSES[2];
    const length = Number(m[1] ?? m[2] ?? m[3] ?? 1);
    for (let k = 0; k < length; k++) {
      const alphabet = cls === CLASSES[0] && k === 0 && length > 1 ? '123456789' : cls.alphabet;
      out += alphabet[Math.floor(rng.nextDouble() * alphabet.length)];
    }
  }
  return out;
}

export function fitPatterns(values: readonly string[], allowance: Allowance, rng: RandomSource, ledger: BudgetLedger): PatternModel {
  const counts = new Map<string, number>();
  for (const v of values) {
    const t = templateOf(v);
    counts.set(t, (counts.get(t) ?? 0) + 1);
  }
  const templates = thresholdedRelease(counts, ledger.thresholded(allowance, 'templates', 1), rng);
  return { kind: 'pattern', templates: templates.sort((a, b) => b[1] - a[1]) };
}

/** A value from the released templates, or null when none was released. */
export function samplePattern(model: PatternModel, rng: RandomSource): string | null {
  const weights = model.templates.map(([, c]) => c);
  const total = weights.reduce((s, c) => s + c, 0);
  if (!(total > 0)) return null;
  return fillTemplate(model.templates[sampleIndex(weights, total, rng)][0], rng);
}
