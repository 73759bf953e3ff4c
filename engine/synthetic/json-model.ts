// JSON-object strings (`{"date": "1999-10-20", "text": "…", "patient_id": 0}`): the key lists,
// each key's value type and each key's values, all released with DP, written back in the data's
// style (json-style.ts).
//
// Releases, in order, each with L2 sensitivity 1 per row:
//   - key lists: each row proposes its list of keys, in order, as one key of a thresholded
//     histogram; so the key set and the key order come out together, and a list only a few rows
//     have (a rare key name) is not released;
//   - per released key, a histogram of value types over public bins (absent, null, string, …);
//   - per key, a model of its values for its main type: strings are modelled as string columns
//     (free text or dates or ids, detected again under DP), numbers by the numeric model,
//     booleans by the category model. Keys whose values are text get more of the allowance.
// Only the released key lists and models leave the fit; nested objects and arrays come out null.
import { splitAllowance, type Allowance, type BudgetLedger, type ColumnSchema } from './budget.ts';
import { noisyHistogram, thresholdedRelease } from './noisy-release.ts';
import { sampleIndex, type RandomSource } from './random-source.ts';
import { NumericCollector, sampleNumber } from './numeric-model.ts';
import { CategoryCollector, sampleCategory } from './category-model.ts';
import { writeObject, type FlatValue, type JsonStyle } from './json-style.ts';
import type { JsonKeyModel, JsonModel, StringFitOptions, StringModel } from './structured-models.ts';

export type { JsonKeyModel, JsonModel };

export const VALUE_TYPES = ['absent', 'null', 'string', 'integer', 'number', 'boolean', 'nested'] as const;
export type ValueType = (typeof VALUE_TYPES)[number];
const MAX_KEYS_PER_OBJECT = 32;
const MAX_KEY_CHARS = 64;
/** At most this many keys get a model (the most frequent key lists' keys first). */
const MAX_MODELLED_KEYS = 24;
const KEY_LISTS_WEIGHT = 0.05;
const TYPES_WEIGHT = 0.05;
const TEXT_VALUE_WEIGHT = 8;

interface JsonFitContext {
  readonly column: ColumnSchema;
  readonly fitString: (values: readonly unknown[], allowance: Allowance, rng: RandomSource, ledger: BudgetLedger, options: StringFitOptions) => StringModel;
}

function typeOf(v: unknown): ValueType {
  if (v === undefined) return 'absent';
  if (v === null) return 'null';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  if (typeof v === 'string' || typeof v === 'boolean') return typeof v as 'string' | 'boolean';
  return 'nested';
}

function mainType(types: readonly number[]): JsonKeyModel['type'] {
  const count = (t: ValueType) => types[VALUE_TYPES.indexOf(t)];
  const numeric = count('integer') + count('number');
  const candidates: [JsonKeyModel['type'], number][] = [
    ['string', count('string')], [count('integer') >= count('number') ? 'integer' : 'number', numeric], ['boolean', count('boolean')],
  ];
  candidates.sort((a, b) => b[1] - a[1]);
  return candidates[0][1] > 0 ? candidates[0][0] : 'null';
}

export function fitJson(objects: readonly Record<string, unknown>[], style: JsonStyle, allowance: Allowance, rng: RandomSource, ledger: BudgetLedger, context: JsonFitContext): JsonModel {
  const [forKeyLists, forTypes, forValues] = splitAllowance(allowance, [
    { name: '', weight: KEY_LISTS_WEIGHT }, { name: '', weight: TYPES_WEIGHT }, { name: '', weight: 1 - KEY_LISTS_WEIGHT - TYPES_WEIGHT },
  ]);
  const lists = new Map<string, number>();
  for (const o of objects) {
    const keys = Object.keys(o);
    if (keys.length > MAX_KEYS_PER_OBJECT || keys.some((k) => k.length > MAX_KEY_CHARS)) continue;
    const list = JSON.stringify(keys);
    lists.set(list, (lists.get(list) ?? 0) + 1);
  }
  const released = thresholdedRelease(lists, ledger.thresholded(forKeyLists, 'keys', 1), rng)
    .map(([list, c]) => [JSON.parse(list) as string[], c] as const)
    .sort((a, b) => b[1] - a[1]);
  const modelled: string[] = [];
  for (const [keys] of released) for (const k of keys) if (!modelled.includes(k) && modelled.length < MAX_MODELLED_KEYS) modelled.push(k);
  const keyLists = released.filter(([keys]) => keys.every((k) => modelled.includes(k)));
  if (modelled.length === 0) return { kind: 'json', style, keyLists, keys: [] };

  const typeAllowances = splitAllowance(forTypes, modelled.map((k) => ({ name: k, weight: 1 })));
  const types = modelled.map((k, i) => {
    const counts = new Float64Array(VALUE_TYPES.length);
    for (const o of objects) counts[VALUE_TYPES.indexOf(typeOf(o[k]))]++;
    return noisyHistogram(counts, ledger.gaussian(typeAllowances[i], 'types').sigma, rng);
  });
  const kinds = types.map(mainType);
  const weights = kinds.map((t) => (t === 'null' ? 0 : t === 'string' ? TEXT_VALUE_WEIGHT : 1));
  const valueAllowances = weights.some((w) => w > 0) ? splitAllowance(forValues, modelled.map((k, i) => ({ name: k, weight: weights[i] }))) : [];
  const keys = modelled.map((key, i): JsonKeyModel => {
    const type = kinds[i];
    const base = { key, types: types[i], type };
    if (type === 'null') return base;
    const a = valueAllowances[i];
    const column: ColumnSchema = { name: a.path, type: type === 'number' ? 'number' : type === 'integer' ? 'integer' : type === 'boolean' ? 'boolean' : 'string', maxTokens: context.column.maxTokens };
    if (type === 'string') {
      const values = objects.map((o) => o[key]).filter((v) => typeof v === 'string');
      return { ...base, values: context.fitString(values, a, rng, ledger, { column, allowJson: false }) };
    }
    const collector = type === 'boolean' ? new CategoryCollector(column) : new NumericCollector(column);
    for (const o of objects) {
      const v = o[key];
      if (type === 'boolean' ? typeof v === 'boolean' : typeof v === 'number') collector.add(v);
    }
    return { ...base, values: collector.fit(a, rng, ledger) };
  });
  return { kind: 'json', style, keyLists, keys };
}

interface ValueSampler { sample(): string | null }

/** Samples objects from a fitted JSON model, written in its style. */
export class JsonSampler {
  private readonly perKey = new Map<string, { readonly nullShare: number; readonly integer: boolean; readonly sample: () => FlatValue }>();
  private readonly listWeights: number[];
  private readonly listTotal: number;

  constructor(private readonly model: JsonModel, private readonly rng: RandomSource, stringSampler: (m: StringModel) => ValueSampler) {
    for (const k of model.keys) {
      const count = (t: ValueType) => Math.max(0, k.types[VALUE_TYPES.indexOf(t)]);
      const present = VALUE_TYPES.reduce((s, t) => s + (t === 'absent' || t === 'null' ? 0 : count(t)), 0);
      const m = k.values;
      const nullShare = !m ? 1 : count('null') + present > 0 ? count('null') / (count('null') + present) : 0;
      let sample: () => FlatValue = () => null;
      if (m?.kind === 'string') { const strings = stringSampler(m); sample = () => strings.sample(); }
      if (m?.kind === 'number') sample = () => sampleNumber(m, rng);
      if (m?.kind === 'category') sample = () => sampleCategory(m, rng) as FlatValue;
      this.perKey.set(k.key, { nullShare, integer: k.type === 'integer', sample });
    }
    this.listWeights = model.keyLists.map(([, c]) => Math.max(0, c));
    this.listTotal = this.listWeights.reduce((s, c) => s + c, 0);
  }

  /** An object string, or null when no key list was released. */
  sample(): string | null {
    if (this.listTotal <= 0) return null;
    const [keys] = this.model.keyLists[sampleIndex(this.listWeights, this.listTotal, this.rng)];
    const entries = keys.map((k): [string, FlatValue] => {
      const s = this.perKey.get(k)!;
      return [k, this.rng.nextDouble() < s.nullShare ? null : s.sample()];
    });
    const integers = new Set(keys.filter((k) => this.perKey.get(k)!.integer));
    return writeObject(entries, this.model.style, integers);
  }
}
