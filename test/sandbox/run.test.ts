// Running traced functions: real runs report values and counts only; dry runs on synthetic rows
// show examples.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { trace, traceSource } from '../../engine/sandbox/traced.ts';
import { runTraced, streamTraced } from '../../engine/sandbox/run-traced.ts';
import { dryRun } from '../../engine/sandbox/dry-run.ts';
import { markSynthetic, SYNTHETIC_NOTICE } from '../../engine/synthetic/synthetic-rows.ts';

// Slots of 50 ms rather than the default 10: these tests check results, and a trivial row can
// miss a 10 ms slot on a loaded 2-core machine (deadline.test.ts checks the timing itself).
const ROOMY = { slotMs: 50 };

const notes = [
  { id: 1, text: 'Patient SEEN on 2021-03-04, Dose 20 MG' },
  { id: 2, text: 'Follow-up CALL 555-0199' },
  { id: 3, text: 'No Complaints' },
];

void test('mapping one column replaces it in each row', async () => {
  const result = await runTraced(trace((text: string) => text.toLowerCase()), notes, { column: 'text', ...ROOMY });
  assert.deepEqual(result.outputs, [
    { id: 1, text: 'patient seen on 2021-03-04, dose 20 mg' },
    { id: 2, text: 'follow-up call 555-0199' },
    { id: 3, text: 'no complaints' },
  ]);
  assert.equal(result.rowsIn, 3);
  assert.equal(result.rowsOut, 3);
  assert.equal(result.failures.count, 0);
});

void test('mapping whole rows: redacting digits', async () => {
  const redact = (row: { id: number; text: string }) => ({ id: row.id, text: row.text.replace(/\d/g, '#') });
  const result = await runTraced(trace(redact), notes, ROOMY);
  assert.deepEqual(result.outputs.map((r) => (r as { text: string }).text), [
    'Patient SEEN on ####-##-##, Dose ## MG', 'Follow-up CALL ###-####', 'No Complaints',
  ]);
});

void test('failures are counted by kind and failed rows are dropped', async () => {
  const fn = traceSource(`(row) => {
    switch (row.mode) {
      case 'throw': throw new Error('bad row');
      case 'loop': while (true) {}
      case 'recurse': { const f = (n) => f(n + 1) + 1; return f(0); }
      case 'memory': return 'x'.repeat(1e9);
      case 'function': return () => 1;
      default: return row.mode;
    }
  }`);
  const modes = ['ok', 'throw', 'loop', 'ok', 'recurse', 'memory', 'function', 'throw', 'ok'];
  const result = await runTraced(fn, modes.map((mode) => ({ mode })), { slotMs: 100 });
  assert.deepEqual(result.outputs, ['ok', 'ok', 'ok']);
  assert.deepEqual(result.failures, { count: 6, byKind: { error: 2, timeout: 1, memory: 1, stackOverflow: 1, nonSerializable: 1 } });
  assert.equal(result.rowsIn, 9);
  assert.equal(result.rowsOut, 3);
  assert.ok(result.realmsCreated >= 4, 'a realm that hit a limit is not reused');
});

void test('what a function throws on a real row never reaches the result', async () => {
  const secret = 'Jeanne-Quartz-7741 has HIV';
  const rows = [...notes, { id: 99, text: secret }, { id: 100, text: 'after' }];
  const leaky = traceSource(`(row) => {
    if (row.text.includes('HIV')) throw new Error('found: ' + row.text);
    if (row.text === 'after') { const err = new TypeError(row.text); err.stack = row.text; throw err; }
    return row.text.length;
  }`);
  const result = await runTraced(leaky, rows, ROOMY);
  const serialized = JSON.stringify(result);
  assert.ok(!serialized.includes('Jeanne-Quartz-7741'), 'the secret leaked into the result');
  assert.ok(!serialized.includes('found:'));
  assert.deepEqual(result.failures.byKind.error, 2);
  assert.deepEqual(result.outputs, notes.map((n) => n.text.length));
  // Nothing says which rows failed.
  assert.deepEqual(Object.keys(result).sort(), ['elapsedMs', 'failures', 'function', 'modulesCreated', 'outputs', 'realmsCreated', 'rowsIn', 'rowsOut']);
});

void test('a dry run shows synthetic inputs, outputs and messages, and says so', async () => {
  const synthetic = markSynthetic([{ text: 'fever and cough' }, { text: '' }, { text: 'rash' }]);
  const fn = traceSource('(text) => { if (text === "") throw new Error("empty note: " + JSON.stringify(text)); return text.split(" ").length; }');
  const report = await dryRun(fn, synthetic, { column: 'text' });
  assert.equal(report.notice, SYNTHETIC_NOTICE);
  assert.equal(report.notice, 'Evaluated from synthetic data only');
  assert.equal(report.provenance, 'synthetic');
  assert.deepEqual(report.examples, [{ input: 'fever and cough', output: 3 }, { input: 'rash', output: 1 }]);
  assert.deepEqual(report.failureExamples, [{ input: '', kind: 'error', message: 'Error: empty note: ""' }]);
  assert.deepEqual(report.failures.byKind.error, 1);
  assert.equal(report.function.sha256, fn.sha256);
});

void test('a dry run refuses rows that are not marked synthetic', async () => {
  await assert.rejects(dryRun(trace((x: unknown) => x), notes as never), /only rows sampled from a synthetic twin/);
});

void test('rows can stream in from an async iterable and out through an async iterator', async () => {
  async function* source() {
    for (let i = 0; i < 25; i++) yield { n: i };
  }
  // No refresh cadence, so the count depends only on how the rows go round the two workers.
  const stream = streamTraced(trace((row: { n: number }) => row.n * row.n), source(), { batchSize: 10, workers: 2, slotMs: 50, refreshMs: null });
  const outputs: unknown[] = [];
  for await (const value of stream.outputs) outputs.push(value);
  const summary = await stream.summary;
  assert.deepEqual(outputs, Array.from({ length: 25 }, (_, i) => i * i));
  assert.equal(summary.rowsIn, 25);
  assert.equal(summary.realmsCreated, 2 + 2, "two workers take the rows in turn: a first realm each, and a second after each one's 10th row");
  assert.equal(summary.modulesCreated, 2, 'one WASM instance per worker of the run');
});

void test('separate runs never share a WASM instance', async () => {
  const fn = trace((x: number) => x + 1);
  const [a, b] = [await runTraced(fn, [1, 2], { workers: 2, refreshMs: null, ...ROOMY }), await runTraced(fn, [3], { workers: 2, refreshMs: null, ...ROOMY })];
  assert.deepEqual([a.outputs, b.outputs], [[2, 3], [4]]);
  assert.equal(a.modulesCreated + b.modulesCreated, 4, 'each run builds its own instances, in its own workers');
});

void test('inputs that are not JSON are counted, not run', async () => {
  const result = await runTraced(trace((x: unknown) => x), [{ big: 1n }, { ok: 1 }], ROOMY);
  assert.deepEqual(result.outputs, [{ ok: 1 }]);
  assert.equal(result.failures.byKind.nonSerializable, 1);
});
