// The synthetic twin of a dataset: per-column DP models fitted once at ingest, from which previews
// and dry runs sample rows that look like the data without being any of it.
//
// Privacy unit: one row. Every column's releases bound each row's contribution; the owner's
// (ε, δ) is split as budget.ts describes and recorded in the model (and, by the caller, in the
// ledger). Columns are modelled independently: the twin reproduces each column's marginal
// distribution, not the relations between columns.

import { planBudget, type BudgetPlan, type ColumnSchema, type TwinSchema } from './budget.ts';
import { TextCollector, TextSampler, type TextModel } from './text-model.ts';
import { CategoryCollector, sampleCategory, type CategoryModel } from './category-model.ts';
import { NumericCollector, sampleNumber, type NumericModel } from './numeric-model.ts';
import { markSynthetic, type SyntheticRows } from './synthetic-rows.ts';
import type { RandomSource } from './random-source.ts';

export type ColumnModel = TextModel | CategoryModel | NumericModel | { readonly kind: 'null' };

export interface SyntheticTwinModel {
  readonly kind: 'veil.syntheticTwin';
  readonly version: 1;
  readonly privacy: BudgetPlan & { readonly unit: 'row' };
  readonly columns: readonly { readonly name: string; readonly type: ColumnSchema['type']; readonly model: ColumnModel }[];
}

export interface TwinOptions {
  readonly epsilon: number;
  readonly delta: number;
  /** The noise source: a keyed cryptographic stream (engine/random's SecureStream). */
  readonly rng: RandomSource;
}

interface Collector {
  add(value: unknown): void;
  fit(plan: BudgetPlan, rng: RandomSource): ColumnModel;
}

function collectorFor(column: ColumnSchema): Collector {
  switch (column.type) {
    case 'null': return { add() {}, fit: () => ({ kind: 'null' }) };
    case 'boolean': return new CategoryCollector(column);
    case 'number': case 'integer': return new NumericCollector(column);
    case 'string': return column.role === 'category' ? new CategoryCollector(column) : new TextCollector(column);
    default: throw new Error(`column ${(column as ColumnSchema).name}: unsupported type ${(column as ColumnSchema).type}`);
  }
}

export async function fitSyntheticTwin(
  rows: AsyncIterable<Record<string, unknown>> | Iterable<Record<string, unknown>>,
  schema: TwinSchema,
  options: TwinOptions,
): Promise<SyntheticTwinModel> {
  const plan = planBudget(schema, options.epsilon, options.delta);
  const collectors = schema.columns.map(collectorFor);
  for await (const row of rows) {
    const record = (row ?? {}) as Record<string, unknown>;
    schema.columns.forEach((column, i) => collectors[i].add(record[column.name]));
  }
  return {
    kind: 'veil.syntheticTwin',
    version: 1,
    privacy: { ...plan, unit: 'row' },
    columns: schema.columns.map((column, i) => ({ name: column.name, type: column.type, model: collectors[i].fit(plan, options.rng) })),
  };
}

/** `n` synthetic rows, marked as such (see synthetic-rows.ts). Sampling is post-processing: free. */
export function sampleSynthetic(model: SyntheticTwinModel, n: number, rng: RandomSource): SyntheticRows {
  if (model.kind !== 'veil.syntheticTwin' || model.version !== 1) throw new TypeError('not a veil.syntheticTwin model of version 1');
  const samplers = model.columns.map(({ model: m }): (() => unknown) => {
    switch (m.kind) {
      case 'text': { const sampler = new TextSampler(m); return () => sampler.sample(rng); }
      case 'category': return () => sampleCategory(m, rng);
      case 'number': return () => sampleNumber(m, rng);
      case 'null': return () => null;
    }
  });
  const rows: Record<string, unknown>[] = [];
  for (let i = 0; i < n; i++) {
    const row: Record<string, unknown> = {};
    model.columns.forEach((c, j) => { row[c.name] = samplers[j](); });
    rows.push(row);
  }
  return markSynthetic(rows);
}
