// The DP synthetic twin: rare strings are not reproduced, frequent structure is, and the budget
// is accounted as documented.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { SecureStream } from '../../engine/random/secure-stream.ts';
import { fitSyntheticTwin, sampleSynthetic, type SyntheticTwinModel } from '../../engine/synthetic/twin.ts';
import { planBudget } from '../../engine/synthetic/budget.ts';
import { gdpDelta, gdpMuFor } from '../../engine/synthetic/gaussian-dp.ts';
import { isSynthetic } from '../../engine/synthetic/synthetic-rows.ts';
import type { TextModel } from '../../engine/synthetic/text-model.ts';
import type { StringModel } from '../../engine/synthetic/string-model.ts';
import type { NumericModel } from '../../engine/synthetic/numeric-model.ts';
import type { CategoryModel } from '../../engine/synthetic/category-model.ts';
import { dryRun } from '../../engine/sandbox/dry-run.ts';
import { trace } from '../../engine/sandbox/traced.ts';

const SECRET = 'François Dupont suffers from a severe form of pancreatic cancer';
const PHEE = new URL('../../../shared/data/phee/train.jsonl', import.meta.url);

/** Plausible clinical notes from fixed word lists, reproducible from a seed. */
function generatedNotes(n: number, seed: number): { note: string }[] {
  const rng = SecureStream.fromSeed(seed, 'test-notes');
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rng.nextDouble() * xs.length)];
  const who = ['The patient', 'A 54-year-old woman', 'A 61-year-old man', 'The child', 'An elderly patient'];
  const verb = ['developed', 'presented with', 'was treated for', 'reported', 'was admitted with'];
  const condition = ['severe nausea', 'acute renal failure', 'a skin rash', 'hepatotoxicity', 'fever and cough', 'chest pain'];
  const cause = ['after starting lithium', 'during carbamazepine therapy', 'following a course of amoxicillin', 'on high-dose methotrexate'];
  const end = ['.', ', which resolved after withdrawal.', ' and recovered.', ' requiring hospital admission.'];
  return Array.from({ length: n }, () => ({ note: `${pick(who)} ${pick(verb)} ${pick(condition)} ${pick(cause)}${pick(end)}` }));
}

function withSecretAt<T extends Record<string, unknown>>(rows: T[], key: string, position: number): Record<string, unknown>[] {
  return [...rows.slice(0, position), { [key]: SECRET }, ...rows.slice(position)];
}

/** A column's text model: free-text columns are string columns whose DP shape release said text. */
function textModel(model: SyntheticTwinModel, column: string): TextModel {
  const m = model.columns.find((c) => c.name === column)!.model;
  assert.equal(m.kind, 'string');
  assert.equal((m as StringModel).group, 'text');
  return (m as StringModel).model as TextModel;
}

void test('a sentence that appears once is not reproducible from the twin (generated notes, ε = 1)', async () => {
  const rows = withSecretAt(generatedNotes(2400, 7), 'note', 1234);
  const model = await fitSyntheticTwin(rows, { columns: [{ name: 'note', type: 'string' }] }, {
    epsilon: 1, delta: 1e-6, rng: SecureStream.fromSeed(11, 'twin-noise'),
  });
  const synthetic = sampleSynthetic(model, 1000, SecureStream.fromSeed(12, 'twin-sample'));
  const text = synthetic.map((r) => String(r.note)).join('\n');
  for (const rare of ['Dupont', 'François', 'pancreatic']) {
    assert.ok(!text.includes(rare), `${rare} appeared in the synthetic rows`);
    assert.ok(!JSON.stringify(model).includes(rare), `${rare} is in the model`);
  }
  // The twin is not empty: words that many rows share come through, and so does their order.
  const vocabulary = textModel(model, 'note').vocabulary;
  for (const common of ['patient', 'with', 'after', '.']) assert.ok(vocabulary.includes(common), `${common} missing from ${vocabulary.join(' ')}`);
  assert.ok(textModel(model, 'note').bigrams.length > 0);
  assert.ok(synthetic.filter((r) => typeof r.note === 'string' && r.note.length > 0).length > 900);
});

void test('a sentence that appears once is not reproducible from the twin of PHEE (ε = 1), which looks medical', async (t) => {
  if (!existsSync(PHEE)) {
    t.skip(`PHEE not found at ${PHEE.pathname} (CI keeps shared/ beside the clone)`);
    return;
  }
  const phee = readFileSync(PHEE, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { context: string });
  const rows = withSecretAt(phee, 'context', 1500);
  assert.ok(rows.length >= 2000);
  const schema = { columns: [{ name: 'context', type: 'string' as const }] };
  const model = await fitSyntheticTwin(rows, schema, { epsilon: 1, delta: 1e-6, rng: SecureStream.fromSeed(21, 'twin-noise') });
  const synthetic = sampleSynthetic(model, 1000, SecureStream.fromSeed(22, 'twin-sample'));
  const text = synthetic.map((r) => String(r.context)).join('\n');
  for (const rare of ['Dupont', 'François']) assert.ok(!text.includes(rare), `${rare} appeared in the synthetic rows`);
  for (const medical of ['patient', 'treatment', 'therapy']) assert.ok(textModel(model, 'context').vocabulary.includes(medical), medical);

  // With more budget the twin says more, and still nothing rare.
  const generous = await fitSyntheticTwin(rows, schema, { epsilon: 8, delta: 1e-6, rng: SecureStream.fromSeed(23, 'twin-noise') });
  assert.ok(textModel(generous, 'context').vocabulary.length > textModel(model, 'context').vocabulary.length);
  const samples = sampleSynthetic(generous, 1000, SecureStream.fromSeed(24, 'twin-sample'));
  assert.ok(!samples.some((r) => String(r.context).includes('Dupont')));
  t.diagnostic(`ε=1 vocabulary ${textModel(model, 'context').vocabulary.length} words; ε=8 ${textModel(generous, 'context').vocabulary.length}`);
  for (const r of samples.slice(0, 3)) t.diagnostic(`ε=8 sample: ${String(r.context)}`);
});

void test('the releases of a fit compose to exactly the owner\'s (ε, δ)', async () => {
  const schema = {
    columns: [
      { name: 'note', type: 'string' as const },
      { name: 'ward', type: 'string' as const, role: 'category' as const },
      { name: 'age', type: 'integer' as const, range: [0, 110] as const },
      { name: 'dose', type: 'number' as const },
      { name: 'smoker', type: 'boolean' as const },
      { name: 'empty', type: 'null' as const },
    ],
  };
  const rows = generatedNotes(500, 13).map((r, i) => ({ ...r, ward: i % 2 ? 'cardiology' : 'oncology', age: i % 90, dose: i / 7, smoker: i % 3 === 0, empty: null }));
  const { plan } = planBudget(schema, 2, 1e-6);
  assert.equal(plan.mu, gdpMuFor(2, 5e-7));
  const model = await fitSyntheticTwin(rows, schema, { epsilon: 2, delta: 1e-6, rng: SecureStream.fromSeed(61, 'twin-noise') });
  const { releases } = model.privacy;
  const composedMu = Math.sqrt(releases.reduce((s, r) => s + 1 / r.sigma ** 2, 0));
  assert.ok(Math.abs(composedMu - plan.mu) < 1e-12 * plan.mu, `${composedMu} vs ${plan.mu}`);
  assert.ok(gdpDelta(composedMu, 2) <= 5e-7);
  const thresholded = releases.filter((r) => r.threshold !== undefined);
  assert.deepEqual(thresholded.map((r) => `${r.column}/${r.what}`), ['note/vocabulary', 'note/bigrams', 'ward/values']);
  const thresholdDeltas = thresholded.reduce((s, r) => s + r.thresholdDelta!, 0);
  assert.ok(plan.deltaGaussian + Math.exp(2) * thresholdDeltas <= 1e-6 * (1 + 1e-12));
  assert.deepEqual(releases.filter((r) => r.column === 'note').map((r) => r.what), ['shapes', 'vocabulary', 'bigrams', 'lengths']);
  assert.deepEqual(releases.filter((r) => r.column === 'dose').map((r) => r.what), ['range', 'histogram']);
  assert.ok(!releases.some((r) => r.column === 'empty'));
  assert.throws(() => planBudget(schema, 0, 1e-6), /ε > 0/);
  assert.throws(() => planBudget({ columns: [{ name: 'a', type: 'null' }, { name: 'a', type: 'null' }] }, 1, 1e-6), /twice/);
});

void test('numbers: a declared range is kept, an undeclared one is estimated without the outlier', async () => {
  const rng = SecureStream.fromSeed(31, 'test-numbers');
  const rows = Array.from({ length: 3000 }, (_, i) => ({
    age: 20 + Math.floor(rng.nextDouble() * 60),
    dose: i === 17 ? 987654321 : 50 + 100 * rng.nextDouble(),
  }));
  const schema = { columns: [{ name: 'age', type: 'integer' as const, range: [0, 110] as const }, { name: 'dose', type: 'number' as const }] };
  const model = await fitSyntheticTwin(rows, schema, { epsilon: 4, delta: 1e-6, rng: SecureStream.fromSeed(32, 'twin-noise') });
  const [age, dose] = model.columns.map((c) => c.model as NumericModel);
  assert.deepEqual([age.range, age.rangeSource], [[0, 110], 'declared']);
  assert.equal(dose.rangeSource, 'estimated');
  assert.ok(dose.range[0] <= 50 && dose.range[1] >= 150 && dose.range[1] <= 256, `dose range ${dose.range}`);
  const synthetic = sampleSynthetic(model, 2000, SecureStream.fromSeed(33, 'twin-sample'));
  const ages = synthetic.map((r) => r.age).filter((a): a is number => a !== null);
  assert.ok(ages.length > 1900);
  assert.ok(ages.every((a) => Number.isInteger(a) && a >= 0 && a <= 110));
  const meanAge = ages.reduce((s, a) => s + a, 0) / ages.length;
  assert.ok(Math.abs(meanAge - 49.5) < 4, `mean age ${meanAge}`);
  const doses = synthetic.map((r) => r.dose).filter((d): d is number => d !== null);
  assert.ok(doses.length > 1900, 'nulls come only from the noise on an empty null bin');
  assert.ok(doses.every((d) => d >= dose.range[0] && d <= dose.range[1]));
});

void test('categories: a value only one row has is never released; frequent values keep their share', async () => {
  const rows = [
    ...Array.from({ length: 1500 }, () => ({ ward: 'cardiology', smoker: true })),
    ...Array.from({ length: 500 }, () => ({ ward: 'oncology', smoker: false })),
    ...Array.from({ length: 200 }, () => ({ ward: null, smoker: null })),
    { ward: 'VIP suite of Mr Dupont', smoker: false },
  ];
  const schema = { columns: [{ name: 'ward', type: 'string' as const, role: 'category' as const }, { name: 'smoker', type: 'boolean' as const }] };
  const model = await fitSyntheticTwin(rows, schema, { epsilon: 1, delta: 1e-6, rng: SecureStream.fromSeed(41, 'twin-noise') });
  const wards = (model.columns[0].model as CategoryModel).values.map(([v]) => v);
  assert.deepEqual(wards, ['cardiology', 'oncology', null]);
  const synthetic = sampleSynthetic(model, 4000, SecureStream.fromSeed(42, 'twin-sample'));
  const share = (f: (r: Record<string, unknown>) => boolean) => synthetic.filter(f).length / synthetic.length;
  assert.ok(Math.abs(share((r) => r.ward === 'cardiology') - 1500 / 2201) < 0.04);
  assert.ok(Math.abs(share((r) => r.ward === null) - 200 / 2201) < 0.03);
  assert.ok(Math.abs(share((r) => r.smoker === true) - 1500 / 2201) < 0.04);
  assert.ok(!synthetic.some((r) => String(r.ward).includes('Dupont')));
});

void test('fitting is reproducible from the key, reads async rows, and the model is plain JSON', async () => {
  const rows = generatedNotes(600, 3);
  async function* stream() { yield* rows; }
  const schema = { columns: [{ name: 'note', type: 'string' as const }, { name: 'missing', type: 'number' as const, range: [0, 1] as const }] };
  const fit = (key: number, source: AsyncIterable<Record<string, unknown>> | Record<string, unknown>[]) =>
    fitSyntheticTwin(source, schema, { epsilon: 4, delta: 1e-6, rng: SecureStream.fromSeed(key, 'twin-noise') });
  const a = await fit(1, rows);
  const b = await fit(1, stream());
  const c = await fit(2, rows);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
  const restored = JSON.parse(JSON.stringify(a)) as SyntheticTwinModel;
  const sampled = sampleSynthetic(restored, 50, SecureStream.fromSeed(5, 'twin-sample'));
  assert.deepEqual(sampled, sampleSynthetic(a, 50, SecureStream.fromSeed(5, 'twin-sample')));
  assert.ok(isSynthetic(sampled));
  assert.equal(a.privacy.unit, 'row');
  assert.equal(a.privacy.epsilon, 4);
});

void test('twin rows feed a dry run, which says it used synthetic data only', async () => {
  const model = await fitSyntheticTwin(generatedNotes(1000, 9), { columns: [{ name: 'note', type: 'string' }] }, {
    epsilon: 4, delta: 1e-6, rng: SecureStream.fromSeed(51, 'twin-noise'),
  });
  const rows = sampleSynthetic(model, 20, SecureStream.fromSeed(52, 'twin-sample'));
  const report = await dryRun(trace((note: string | null) => (note ?? '').split(' ').length), rows, { column: 'note' });
  assert.equal(report.notice, 'Evaluated from synthetic data only');
  assert.equal(report.rowsIn, 20);
  assert.equal(report.examples.length, 5);
  assert.equal(report.examples[0].input, rows[0].note);
});
