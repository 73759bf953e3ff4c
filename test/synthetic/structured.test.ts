// Structured strings in the twin: JSON objects keep their keys, order and formatting, dates stay
// dates, ids keep their template, while the free text stays DP-synthetic and nothing private is
// copied. The JSON formatting is checked against Python's json module
// (fixture from test/synthetic/fixtures/json_style_reference.py).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { SecureStream } from '../../engine/random/secure-stream.ts';
import { fitSyntheticTwin, sampleSynthetic } from '../../engine/synthetic/twin.ts';
import { gdpDelta } from '../../engine/synthetic/gaussian-dp.ts';
import { pythonFloat, styleOf, writeObject, type FlatValue, type JsonStyle } from '../../engine/synthetic/json-style.ts';
import { fillTemplate, templateOf } from '../../engine/synthetic/pattern-model.ts';
import { shapeOf } from '../../engine/synthetic/string-shapes.ts';
import type { StringModel } from '../../engine/synthetic/string-model.ts';
import type { JsonModel } from '../../engine/synthetic/json-model.ts';

const PHEE = new URL('../../../shared/data/phee/train.jsonl', import.meta.url);
const SECRET = 'François Dupont suffers from a severe form of pancreatic cancer';

interface Reference {
  floats: { x: number; repr: string }[];
  objects: ({ entries: [string, FlatValue][]; integers: string[] } & Partial<Record<JsonStyle, string>>)[];
}
const reference = JSON.parse(readFileSync(new URL('./fixtures/json_style_reference.json', import.meta.url), 'utf8')) as Reference;

/** The product notebook's preprocessing, as a TypeScript user writes it. */
const preprocess = (s: string) => s.split('text":')[1].split(', "patient_id')[0].trim();

void test('objects are written exactly as Python\'s json.dumps and JSON.stringify write them, and their style is recognised', () => {
  for (const { x, repr } of reference.floats) assert.equal(pythonFloat(x), repr, `repr(${x})`);
  for (const o of reference.objects) {
    const integers = new Set(o.integers);
    for (const style of ['python', 'python-unicode', 'compact'] as const) {
      const expected = o[style];
      if (expected === undefined) continue;
      assert.equal(writeObject(o.entries, style, integers), expected, `${style}: ${expected}`);
      const recognised = styleOf(expected, JSON.parse(expected) as Record<string, unknown>);
      // An ASCII-only object reads the same in both Python styles, and {} in all three.
      assert.ok(recognised !== undefined && writeObject(o.entries, recognised, integers) === expected, `${style} not recognised: ${expected}`);
    }
  }
  assert.equal(styleOf('{"a":  1}', { a: 1 }), undefined, 'other spacing is no known style');
});

void test('shapes and id templates', () => {
  assert.equal(shapeOf('{"date": "1999-10-20", "patient_id": 0}', true), 'json-python');
  assert.equal(shapeOf('{"date":"1999-10-20"}', true), 'json-compact');
  assert.equal(shapeOf('{"date":"1999-10-20"}', false), 'text', 'JSON inside JSON values is not modelled');
  assert.equal(shapeOf('1999-10-20', true), 'date');
  assert.equal(shapeOf('1999-02-30', true), 'pattern', 'not a real date');
  assert.equal(shapeOf('8908396_3', true), 'pattern');
  assert.equal(shapeOf('cardiology', true), 'text', 'a word without digits is not an id');
  assert.equal(shapeOf(null, true), 'null');
  assert.equal(templateOf('8908396_3'), '\\d{7}_\\d');
  assert.equal(templateOf('AB-12.x'), '[A-Z]{2}-\\d{2}\\.[a-z]');
  const rng = SecureStream.fromSeed(71, 'templates');
  for (const t of ['\\d{7}_\\d', '[A-Z]{2}-\\d{2}\\.[a-z]', '\\d{8}_\\d{2}']) {
    for (let i = 0; i < 20; i++) {
      const v = fillTemplate(t, rng);
      assert.match(v, new RegExp(`^${t}$`));
      assert.equal(templateOf(v), t);
    }
  }
});

function notebookRows(): { id: string; context: string }[] {
  const phee = readFileSync(PHEE, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { id: string; context: string });
  const rng = SecureStream.fromSeed(81, 'notebook-dates');
  const pad = (n: number) => String(n).padStart(2, '0');
  // As the product notebook shows its rows: json.dumps({"date", "text", "patient_id"}).
  return phee.map((r, i) => {
    const date = `${1990 + Math.floor(rng.nextDouble() * 30)}-${pad(1 + Math.floor(rng.nextDouble() * 12))}-${pad(1 + Math.floor(rng.nextDouble() * 28))}`;
    const text = i === 1500 ? SECRET : r.context;
    return { id: r.id, context: writeObject([['date', date], ['text', text], ['patient_id', Math.floor(i / 3)]], 'python', new Set(['patient_id'])) };
  });
}

function shingles(text: string, n: number): string[] {
  const words = text.split(/\s+/).filter(Boolean);
  return Array.from({ length: Math.max(0, words.length - n + 1) }, (_, i) => words.slice(i, i + n).join(' '));
}

void test('PHEE as the notebook shows it: at ε = 1 the preview keeps the JSON shape, the ids\' shape and dates, and copies no text', async (t) => {
  if (!existsSync(PHEE)) {
    t.skip(`PHEE not found at ${PHEE.pathname} (CI keeps shared/ beside the clone)`);
    return;
  }
  const rows = notebookRows();
  assert.equal(preprocess(rows[0].context).slice(0, 11), '"OBJECTIVE:', 'the notebook\'s preprocess works on the real rows');
  const schema = { columns: [{ name: 'id', type: 'string' as const }, { name: 'context', type: 'string' as const }] };
  const model = await fitSyntheticTwin(rows, schema, { epsilon: 1, delta: 1e-6, rng: SecureStream.fromSeed(82, 'twin-noise') });
  const preview = sampleSynthetic(model, 200, SecureStream.fromSeed(83, 'twin-sample'));

  // The notebook's exact preprocess works on the first 10 preview rows (and on the rest).
  const works = (r: Record<string, unknown>) => { try { return typeof preprocess(String(r.context)) === 'string'; } catch { return false; } };
  assert.ok(preview.slice(0, 10).filter(works).length >= 9, `preprocess failed on ${preview.slice(0, 10).filter((r) => !works(r)).map((r) => String(r.context)).join(' | ')}`);
  assert.ok(preview.filter(works).length >= 190);

  // Same keys in the same order, the same formatting, a date, an integer.
  const realIds = new Set(rows.map((r) => r.id));
  const realTemplates = new Set(rows.map((r) => templateOf(r.id)));
  for (const r of preview) {
    const context = String(r.context);
    const o = JSON.parse(context) as Record<string, unknown>;
    assert.deepEqual(Object.keys(o), ['date', 'text', 'patient_id']);
    assert.equal(styleOf(context, o), 'python', context);
    assert.match(String(o.date), /^(199\d|20[01]\d)-\d{2}-\d{2}$/);
    assert.ok(o.patient_id === null || (Number.isInteger(o.patient_id) && (o.patient_id as number) < 4096), context);
    // Ids look like the real ones (`8908396_3`: mostly 7 or 8 digits, _, 1 or 2 digits), none is a real one.
    assert.ok(realTemplates.has(templateOf(String(r.id))), `id ${String(r.id)}`);
    assert.match(String(r.id), /^\d{6,8}_\d{1,2}$/);
    assert.ok(!realIds.has(String(r.id)), `a real id ${String(r.id)} reached the preview`);
  }

  // The free text is DP-synthetic: no preview text is a real one, no 8 words in a row are copied.
  const textOf = (context: unknown) => String((JSON.parse(String(context)) as { text: unknown }).text);
  const realTexts = rows.map((r) => textOf(r.context));
  const realShingles = new Set(realTexts.flatMap((text) => shingles(text, 8)));
  const previewTexts = preview.map((r) => textOf(r.context));
  const texts = new Set(realTexts);
  assert.ok(!previewTexts.some((text) => texts.has(text)));
  const copied = previewTexts.flatMap((text) => shingles(text, 8)).filter((s) => realShingles.has(s));
  assert.deepEqual(copied, []);
  assert.ok(previewTexts.filter((text) => text.length > 0).length > 150, 'the text is not empty');
  const serialised = JSON.stringify(model);
  for (const rare of ['Dupont', 'François', 'pancreatic']) assert.ok(!serialised.includes(rare) && !JSON.stringify(preview).includes(rare), rare);
  assert.ok(![...realIds].some((id) => serialised.includes(`"${id}"`)), 'a real id is in the model');

  // What was decided, and what it cost: every choice is a release in the books.
  const context = model.columns[1].model as StringModel;
  assert.equal(context.group, 'json');
  assert.deepEqual((context.model as JsonModel).keyLists.map(([keys]) => keys), [['date', 'text', 'patient_id']]);
  assert.deepEqual((context.model as JsonModel).keys.map((k) => k.type), ['string', 'string', 'integer']);
  const releases = model.privacy.releases.map((r) => `${r.column}/${r.what}`);
  for (const r of ['id/shapes', 'id/templates', 'context/shapes', 'context/keys', 'context.date/types', 'context.date/years', 'context.text/vocabulary', 'context.patient_id/histogram']) {
    assert.ok(releases.includes(r), `${r} missing from ${releases.join(', ')}`);
  }
  const mu = Math.sqrt(model.privacy.releases.reduce((s, r) => s + 1 / r.sigma ** 2, 0));
  assert.ok(Math.abs(mu - model.privacy.mu) < 1e-12 * mu && gdpDelta(mu, 1) <= model.privacy.deltaGaussian);
  const thresholdDeltas = model.privacy.releases.reduce((s, r) => s + (r.thresholdDelta ?? 0), 0);
  assert.ok(thresholdDeltas <= model.privacy.deltaThresholds * (1 + 1e-12));
  for (const r of preview.slice(0, 3)) t.diagnostic(`preview: ${JSON.stringify(r)}`);
});

void test('structure is kept only when the DP release says so: small or unstructured columns stay text', async () => {
  const rng = SecureStream.fromSeed(91, 'small');
  const few = Array.from({ length: 40 }, (_, i) => ({ code: `${1000 + Math.floor(rng.nextDouble() * 9000)}_${i % 10}` }));
  const small = await fitSyntheticTwin(few, { columns: [{ name: 'code', type: 'string' }] }, { epsilon: 1, delta: 1e-6, rng: SecureStream.fromSeed(92, 'twin-noise') });
  assert.equal((small.columns[0].model as StringModel).group, 'text', '40 rows cannot show a shape above the noise at ε = 1');
  const many = Array.from({ length: 3000 }, (_, i) => ({ code: `${1000 + Math.floor(rng.nextDouble() * 9000)}_${i % 10}`, when: `20${10 + (i % 10)}-0${1 + (i % 9)}-1${i % 10}` }));
  const schema = { columns: [{ name: 'code', type: 'string' as const }, { name: 'when', type: 'string' as const }] };
  const large = await fitSyntheticTwin(many, schema, { epsilon: 1, delta: 1e-6, rng: SecureStream.fromSeed(93, 'twin-noise') });
  assert.deepEqual(large.columns.map((c) => (c.model as StringModel).group), ['pattern', 'date']);
  const rows = sampleSynthetic(large, 100, SecureStream.fromSeed(94, 'twin-sample'));
  for (const r of rows) {
    assert.match(String(r.code), /^\d{4}_\d$/);
    assert.match(String(r.when), /^201\d-0\d-1\d$/);
  }
  const text = await fitSyntheticTwin(many, { columns: [{ name: 'code', type: 'string', role: 'text' }] }, { epsilon: 1, delta: 1e-6, rng: SecureStream.fromSeed(95, 'twin-noise') });
  assert.equal(text.columns[0].model.kind, 'text', 'role text skips the shape release');
  assert.deepEqual(text.privacy.releases.map((r) => r.what), ['vocabulary', 'bigrams', 'lengths']);
});
