// The fine-tune's data preparation on a real dataset in the real S3: preprocessing in the sandbox
// (a failing function costs its rows, reported as counts, and its message never leaves), the
// split, and idempotence of a retried attempt.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { addDataset } from '../../clients/sdk/datasets.ts';
import { trace } from '../../engine/sandbox/index.ts';
import { END_OF_TEXT_ID, decode } from '../../engine/tokenizer/gpt2-tokenizer.ts';
import { prepareTrainingData, readPrivateCounts, splitOrder, type PrepareDataInput } from '../../activities/training/prepare-data.ts';
import { noisyReport, releaseDataReport } from '../../activities/training/data-report.ts';
import type { DataReport, PreparedData } from '../../contracts/fine-tune.ts';
import { downloadTokenizedRows } from '../../activities/training/tokenized-rows.ts';
import type { ArtifactStore } from '../../infra/storage/index.ts';
import { uniqueName } from '../helpers/names.ts';
import { newOwner } from '../helpers/principals.ts';
import { testStore } from '../helpers/storage.ts';
import { withWorker } from '../helpers/temporal.ts';

const SECRET = 'ZEBRA-7731-private';
let store: ArtifactStore;
const dataset = uniqueName('prep');

before(async () => {
  store = await testStore();
  const dir = await mkdtemp(join(tmpdir(), 'veil-prep-'));
  const file = join(dir, 'rows.jsonl');
  const rows = Array.from({ length: 40 }, (_, i) => ({ id: i, body: i % 10 === 3 ? `Patient ${SECRET} SAID NO` : `Patient ${i} Is Fine` }));
  await writeFile(file, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  const owner = await newOwner('prep-owner');
  await withWorker(async ({ client, taskQueue }) => addDataset(client, taskQueue, dataset, file, { token: owner.token }), { gpu: false });
});

function input(overrides: Partial<PrepareDataInput> = {}): PrepareDataInput {
  return {
    jobId: uniqueName('job'),
    dataset: { name: dataset },
    preprocessing: [],
    textColumn: 'body',
    split: { kind: 'ratio', testFraction: 0.25, shuffleSeed: 'x' },
    maxSeqLen: 16,
    ...overrides,
  };
}

test('rename and a traced map run over the real rows; a failing row leaves an empty slot, and its count is released with noise', async () => {
  const lower = trace((s: string) => s.toLowerCase(), { name: 'lower' });
  // Throws with the row's content on the secret rows: the message must not come back anywhere.
  const picky = trace((s: string) => { if (s.includes('zebra')) throw new Error(s); return s; }, { name: 'picky' });
  const req = input({ preprocessing: [{ kind: 'rename', from: 'body', to: 'text' }, { kind: 'map', column: 'text', fn: lower }, { kind: 'map', column: 'text', fn: picky }], textColumn: 'text' });
  const result: PreparedData = await new MockActivityEnvironment().run(prepareTrainingData, req);
  // Sizes are the dataset's 40 rows split 30/10, whatever the function rejected.
  assert.deepEqual([result.trainRows, result.testRows], [30, 10]);
  assert.doesNotMatch(JSON.stringify(result), /zebra|ZEBRA|7731/);
  assert.doesNotMatch(JSON.stringify(result), /failures|skipped|truncated/, 'no count over private rows goes back to the workflow');
  const train = await downloadTokenizedRows(store, result.prefix, 'train.tokens');
  const test = await downloadTokenizedRows(store, result.prefix, 'test.tokens');
  const usable = [...train, ...test].filter((ids) => ids.length > 0);
  assert.equal(usable.length, 36, 'the 4 rejected rows are empty slots');
  // GPT-2's layout: <|endoftext|> text <|endoftext|>, so a row starts where generation starts.
  assert.ok(usable.every((ids) => ids[0] === END_OF_TEXT_ID && ids[ids.length - 1] === END_OF_TEXT_ID), 'each row is wrapped in <|endoftext|>');
  assert.ok(usable.every((ids) => decode(ids.slice(1)).startsWith('patient ')), 'rows were lower-cased in the sandbox');
  // The exact counts stay in S3; the report gives them exactly only to a non-DP job.
  const exact = await readPrivateCounts(req.jobId);
  assert.equal(exact.preprocessing.steps[2].failures?.byKind.error, 4);
  assert.equal(exact.skippedRows, 0);
  const plain: DataReport = await new MockActivityEnvironment().run(releaseDataReport, { jobId: req.jobId, epsilon: null });
  assert.equal(plain.preprocessing[2].failures?.count, 4);
  assert.equal(plain.epsilon, null);
  // With ε = 10⁶ the discrete Laplace noise is 0 (but for a chance of 10⁻⁵⁰⁰⁰⁰⁰): the released counts are the exact ones.
  const sharp: DataReport = await new MockActivityEnvironment().run(releaseDataReport, { jobId: req.jobId, epsilon: 1e6 });
  assert.equal(sharp.preprocessing[2].failures?.byKind.error, 4);
  assert.equal(sharp.preprocessing[2].failures?.count, 4);
  assert.match(sharp.notice, /differential privacy \(epsilon=1000000\)/);
  // One release per job: asking again (a retry, a rerun) returns the report drawn the first time.
  const repeated: DataReport[] = await Promise.all(Array.from({ length: 5 }, () => new MockActivityEnvironment().run(releaseDataReport, { jobId: req.jobId, epsilon: 0.05 }) as Promise<DataReport>));
  for (const r of repeated) assert.deepEqual(r, sharp);
  // At ε = 0.05 each draw is noisy: over 20 draws the error count cannot always be exactly 4.
  const noisy: DataReport[] = Array.from({ length: 20 }, () => noisyReport(exact, 0.05));
  assert.ok(noisy.some((r) => r.preprocessing[2].failures?.byKind.error !== 4), 'the DP report adds noise');
  assert.doesNotMatch(JSON.stringify(noisy), /zebra|ZEBRA|7731/);
  // A retried attempt returns the committed result instead of writing again.
  const again = await new MockActivityEnvironment().run(prepareTrainingData, req);
  assert.deepEqual(again, result);
});

test('a preprocessing step on a missing column, or a function that is not self-contained, is refused before any row is read', async () => {
  const env = new MockActivityEnvironment();
  await assert.rejects(env.run(prepareTrainingData, input({ preprocessing: [{ kind: 'rename', from: 'nope', to: 'x' }] })), /step 1 \(rename\) uses column "nope"/);
  const leaky = { kind: 'veil.traced' as const, version: 1 as const, name: 'leaky', source: '(s) => process.env.HOME', sha256: '' };
  leaky.sha256 = (await import('../../engine/sandbox/index.ts')).sourceSha256(leaky.source);
  await assert.rejects(env.run(prepareTrainingData, input({ preprocessing: [{ kind: 'map', column: 'body', fn: leaky }] })), /process/);
});

test('splits are seeded shuffles of the slots, or a cut by index', () => {
  const a = splitOrder(100, { kind: 'ratio', testFraction: 0.2, shuffleSeed: 's' });
  assert.equal(a.test.length, 20);
  assert.deepEqual([...a.train, ...a.test].sort((x, y) => x - y), Array.from({ length: 100 }, (_, i) => i));
  assert.deepEqual(splitOrder(100, { kind: 'ratio', testFraction: 0.2, shuffleSeed: 's' }), a);
  assert.notDeepEqual(splitOrder(100, { kind: 'ratio', testFraction: 0.2, shuffleSeed: 't' }).test, a.test);
  assert.deepEqual(splitOrder(5, { kind: 'index', testFrom: 3 }), { train: [0, 1, 2], test: [3, 4] });
  assert.throws(() => splitOrder(5, { kind: 'index', testFrom: 5 }), /leaves no test rows/);
});
