// A column the published schema declares without nulls never gets a null in the twin's rows,
// although the twin's noisy null counts do come out positive (the control: the same twin without
// the schema's word draws nulls). A model that can only draw nulls gives a neutral value instead.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SecureStream } from '../../engine/random/secure-stream.ts';
import type { ColumnSchema } from '../../engine/synthetic/budget.ts';
import { fitSyntheticTwin, sampleSynthetic, TWIN_MODEL_VERSION, type SyntheticTwinModel } from '../../engine/synthetic/twin.ts';

/** 40 rows without a null anywhere: few rows and a small ε, so the noise is large next to the counts. */
function rows(): Record<string, unknown>[] {
  return Array.from({ length: 40 }, (_, i) => ({
    note: `the patient had visit ${i % 5} and recovered well`,
    context: JSON.stringify({ date: `2001-0${(i % 9) + 1}-1${i % 10}`, text: 'nausea after a dose', patient_id: i }),
    age: 20 + (i % 50),
    weight: 50.5 + i,
    flag: i % 3 === 0,
    ward: ['north', 'south', 'east'][i % 3],
    extra: { nested: [i] },
  }));
}

const COLUMNS: ColumnSchema[] = [
  { name: 'note', type: 'string', role: 'text' },
  { name: 'context', type: 'string' },
  { name: 'age', type: 'integer' },
  { name: 'weight', type: 'number' },
  { name: 'flag', type: 'boolean' },
  { name: 'ward', type: 'string', role: 'category' },
  { name: 'extra', type: 'json' },
];

async function nullsPerColumn(nullable: boolean | undefined, seed: number): Promise<Record<string, number>> {
  const columns = COLUMNS.map((c) => (nullable === undefined ? c : { ...c, nullable }));
  const model = await fitSyntheticTwin(rows(), { columns }, { epsilon: 0.3, delta: 1e-5, rng: SecureStream.fromSeed(seed, 'non-null-fit') });
  const sample = sampleSynthetic(model, 3000, SecureStream.fromSeed(seed, 'non-null-sample'));
  return Object.fromEntries(COLUMNS.map((c) => [c.name, sample.filter((r) => r[c.name] === null || r[c.name] === undefined).length]));
}

test('columns declared without nulls get none, although the same twin draws nulls where the schema allows them', async () => {
  let nullsWithout = 0;
  for (const seed of [1, 2, 3]) {
    const allowed = await nullsPerColumn(undefined, seed);
    nullsWithout += Object.values(allowed).reduce((a, b) => a + b, 0);
    assert.ok(allowed.extra === 3000, 'an unmodelled JSON column is null where nulls are allowed');
    const declared = await nullsPerColumn(false, seed);
    assert.deepEqual(declared, Object.fromEntries(COLUMNS.map((c) => [c.name, 0])), `seed ${seed}: no null in any non-null column`);
  }
  assert.ok(nullsWithout - 3 * 3000 > 0, 'the control: noise gives the modelled columns nulls when the schema allows them');
});

test('a model that can only draw nulls gives a never-null column a neutral value of its type', () => {
  const model: SyntheticTwinModel = {
    kind: 'veil.syntheticTwin',
    version: TWIN_MODEL_VERSION,
    privacy: { epsilon: 1, delta: 1e-5, mu: 1, releases: [], unit: 'row' } as unknown as SyntheticTwinModel['privacy'],
    columns: [
      { name: 'age', type: 'integer', nullable: false, model: { kind: 'number', integer: true, range: [18, 90], rangeSource: 'declared', unitBins: false, binCounts: [-2, -1, 0], nullCount: 4 } },
      { name: 'ward', type: 'string', nullable: false, model: { kind: 'category', values: [['north', -1], [null, 3]] } },
      { name: 'extra', type: 'json', nullable: false, model: { kind: 'null' } },
      { name: 'maybe', type: 'integer', model: { kind: 'number', integer: true, range: [0, 1], rangeSource: 'declared', unitBins: true, binCounts: [-1, -1], nullCount: 2 } },
    ],
  };
  const sample = sampleSynthetic(model, 5, SecureStream.fromSeed(4, 'neutral'));
  for (const row of sample) assert.deepEqual(row, { age: 18, ward: 'north', extra: {}, maybe: null });
});
