// The synthetic twin of a dataset: per-column DP models fitted once at ingest, from which previews
// and dry runs sample rows that look like the data without being any of it.
//
// Privacy unit: one row (neighbouring datasets differ by adding or removing one row). Every
// column's releases bound each row's contribution; the owner's (ε, δ) is split as budget.ts
// describes, and the releases made are recorded in the model (and, by the caller, the ε in the
// ledger). Columns are modelled independently: the twin reproduces each column's marginal
// distribution, not the relations between columns. String columns keep their shape (JSON
// objects, dates, ids) when a DP release says the column has one (string-model.ts).

import { BudgetLedger, planBudget, type Allowance, type BudgetPlan, type ColumnSchema, type TwinSchema } from './budget.ts';
import { TextCollector, TextSampler, type TextModel } from './text-model.ts';
import { CategoryCollector, sampleCategory, type CategoryModel } from './category-model.ts';
import { NumericCollector, sampleNumber, type NumericModel } from './numeric-model.ts';
import { fitString, StringSampler, type StringModel } from './string-model.ts';
import { markSynthetic, type SyntheticRows } from './synthetic-rows.ts';
import type { RandomSource } from './random-source.ts';
import { neutralValue, withoutNulls } from './non-null.ts';

export type ColumnModel = TextModel | StringModel | CategoryModel | NumericModel | { readonly kind: 'null' };

export const TWIN_MODEL_VERSION = 2;

export interface SyntheticTwinModel {
  readonly kind: 'veil.syntheticTwin';
  readonly version: typeof TWIN_MODEL_VERSION;
  readonly privacy: BudgetPlan & { readonly unit: 'row' };
  /** `nullable: false` where the schema says the column has no nulls (absent: nulls may be drawn). */
  readonly columns: readonly { readonly name: string; readonly type: ColumnSchema['type']; readonly model: ColumnModel; readonly nullable?: false }[];
}

export interface TwinOptions {
  readonly epsilon: number;
  readonly delta: number;
  /** The noise source: a keyed cryptographic stream (engine/random's SecureStream). */
  readonly rng: RandomSource;
}

interface Collector {
  add(value: unknown): void;
  fit(allowance: Allowance, rng: RandomSource, ledger: BudgetLedger): ColumnModel;
}

/** String columns whose shape is detected: the values wait until the fit, which decides. */
class StringCollector implements Collector {
  private readonly values: unknown[] = [];
  constructor(private readonly column: ColumnSchema) {}
  add(value: unknown): void {
    this.values.push(value ?? null);
  }
  fit(allowance: Allowance, rng: RandomSource, ledger: BudgetLedger): StringModel {
    return fitString(this.values, allowance, rng, ledger, { column: this.column, allowJson: true });
  }
}

function collectorFor(column: ColumnSchema): Collector {
  switch (column.type) {
    case 'null': case 'json': return { add() {}, fit: () => ({ kind: 'null' }) };
    case 'boolean': return new CategoryCollector(column);
    case 'number': case 'integer': return new NumericCollector(column);
    case 'string':
      if (column.role === 'category') return new CategoryCollector(column);
      return column.role === 'text' ? new TextCollector(column) : new StringCollector(column);
    default: throw new Error(`column ${(column as ColumnSchema).name}: unsupported type ${(column as ColumnSchema).type}`);
  }
}

export async function fitSyntheticTwin(
  rows: AsyncIterable<Record<string, unknown>> | Iterable<Record<string, unknown>>,
  schema: TwinSchema,
  options: TwinOptions,
): Promise<SyntheticTwinModel> {
  const { plan, columns: allowances } = planBudget(schema, options.epsilon, options.delta);
  const collectors = schema.columns.map(collectorFor);
  for await (const row of rows) {
    const record = (row ?? {}) as Record<string, unknown>;
    schema.columns.forEach((column, i) => collectors[i].add(record[column.name]));
  }
  const ledger = new BudgetLedger();
  const columns = schema.columns.map((column, i) => ({
    name: column.name,
    type: column.type,
    model: collectors[i].fit(allowances[i], options.rng, ledger),
    ...(column.nullable === false ? { nullable: false as const } : {}),
  }));
  return { kind: 'veil.syntheticTwin', version: TWIN_MODEL_VERSION, privacy: { ...plan, releases: ledger.releases, unit: 'row' }, columns };
}

/** `n` synthetic rows, marked as such (see synthetic-rows.ts). Sampling is post-processing: free. */
export function sampleSynthetic(model: SyntheticTwinModel, n: number, rng: RandomSource): SyntheticRows {
  if (model.kind !== 'veil.syntheticTwin' || model.version !== TWIN_MODEL_VERSION) throw new TypeError(`not a veil.syntheticTwin model of version ${TWIN_MODEL_VERSION}`);
  const samplers = model.columns.map((column) => (column.nullable === false ? withoutNulls(samplerOf(column.model, rng), () => neutralOf(column)) : samplerOf(column.model, rng)));
  const rows: Record<string, unknown>[] = [];
  for (let i = 0; i < n; i++) {
    const row: Record<string, unknown> = {};
    model.columns.forEach((c, j) => { row[c.name] = samplers[j](); });
    rows.push(row);
  }
  return markSynthetic(rows);
}

function samplerOf(m: ColumnModel, rng: RandomSource): () => unknown {
  switch (m.kind) {
    case 'text': { const sampler = new TextSampler(m); return () => sampler.sample(rng); }
    case 'string': { const sampler = new StringSampler(m, rng); return () => sampler.sample(); }
    case 'category': return () => sampleCategory(m, rng);
    case 'number': return () => sampleNumber(m, rng);
    case 'null': return () => null;
  }
}

/** What a never-null column gets from a model that can only draw nulls. */
function neutralOf(column: SyntheticTwinModel['columns'][number]): unknown {
  const m = column.model;
  if (m.kind === 'category') return m.values.find(([v]) => v !== null)?.[0] ?? neutralValue(column.type);
  return neutralValue(column.type, m.kind === 'number' ? m.range : undefined);
}
