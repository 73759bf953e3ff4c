// The examples/ notebook against the real servers, step for step as the product's notebook: the
// preview keeps PHEE's JSON `context`, the notebook's exact preprocess works on every preview row,
// the split is 2,608 / 290, both fits print their evaluation line, and the samples have text (see the end).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { VeilClient } from 'veil';
import { NOTEBOOK_DEFAULTS, notebook } from '../../examples/notebook.ts';
import { registerAndGrant } from '../../examples/setup.ts';
import { uniqueName } from '../helpers/names.ts';
import { newAnalyst, newOwner } from '../helpers/principals.ts';
import { connectTestEnvironment, withWorker } from '../helpers/temporal.ts';

let env: TestWorkflowEnvironment;

before(async () => {
  env = await connectTestEnvironment();
});

after(async () => {
  await env?.teardown();
});

test('the notebook on PHEE: JSON preview, exact preprocess, split 2,608/290, non-DP and DP fits, most samples have text', async () => {
  await withWorker(async ({ client: temporal, taskQueue }) => {
    const connect = async (token: string) => VeilClient.connect({ temporal, taskQueue, token });
    const owner = await connect((await newOwner('nbx-owner')).token);
    const analystPrincipal = await newAnalyst('nbx-analyst');
    const analyst = await connect(analystPrincipal.token);
    const researcher = await connect((await newAnalyst('nbx-researcher', { privileged: true })).token);
    const dataset = uniqueName('phee');
    const log: string[] = [];
    const t0 = Date.now();
    const stamp = (l: string) => log.push(`[${((Date.now() - t0) / 1000).toFixed(0)}s] ${l}`);
    await registerAndGrant(owner, { dataset, analyst: analystPrincipal.id, epsilon: 23, delta: 1e-5, log: stamp });

    const printed: string[] = [];
    const consoleLog = console.log;
    console.log = (line: string) => printed.push(String(line));
    // Fewer and shorter steps than the example's defaults (the test checks the steps, not the
    // model's quality), and no checkpoint before the last: the test does not resume.
    const plain = { batchSize: 12, epochs: 0.5, lr: 5e-3, checkpointEvery: 1000 };
    const dp = { batchSize: 64, epochs: 0.25, lr: 5e-3, targetEpsilon: 22, delta: 1e-5, checkpointEvery: 1000 };
    let run;
    try {
      run = await notebook({ analyst, researcher }, {
        ...NOTEBOOK_DEFAULTS,
        dataset,
        maxSeqLen: 32,
        plain,
        dp,
        maxNewTokens: 30,
        log: stamp,
      });
    } finally {
      console.log = consoleLog;
    }
    const all = [...log, ...printed].join('\n');
    if (process.env.VEIL_TEST_LOG) await writeFile(process.env.VEIL_TEST_LOG, all + '\n');

    assert.ok(run.datasets.some((d) => d.name === dataset && d.rows === 2898), 'step 0 lists the dataset with its 2,898 rows');
    assert.equal(run.preview.notice, 'Evaluated from synthetic data only');
    assert.equal(run.preview.rows.length, 10);
    // Every real row has an id and a context, so the schema says neither is ever null, and neither
    // is in the preview (the twin's noisy null counts would give one now and then otherwise).
    for (const row of run.preview.rows) assert.ok(row.id !== null && row.context !== null && row.context !== undefined, `no null in a never-null column: ${JSON.stringify(row)}`);
    const contexts = run.preview.rows.map((row) => row.context);
    for (const context of contexts) {
      const parsed = JSON.parse(String(context)) as Record<string, unknown>;
      assert.deepEqual(Object.keys(parsed), ['date', 'text', 'patient_id'], 'the preview keeps the JSON shape');
      // A key's value type is drawn from a noisy histogram that includes null, so null may appear.
      if (parsed.date !== null) assert.match(String(parsed.date), /^\d{4}-\d\d-\d\d$/);
      if (parsed.patient_id !== null) assert.equal(typeof parsed.patient_id, 'number');
    }
    assert.equal(run.preprocessed.notice, 'Evaluated from synthetic data only');
    assert.equal(run.preprocessed.dryRuns[0].failures.count, 0, 'the exact preprocess works on every preview row');
    assert.equal(run.preprocessed.rows.length, 10);
    for (const row of run.preprocessed.rows) assert.ok(typeof row.text === 'string' && !('context' in row));

    for (const fit of [run.plain, run.dp]) assert.deepEqual([fit.trainRows, fit.testRows], [2608, 290]);
    assert.match(all, /Non-private evaluation/);
    assert.match(all, /Differentially-private evaluation \(epsilon=\d+\.\d\d\)/);
    assert.ok(typeof run.dp.epsilon === 'number' && run.dp.epsilon <= 22 + 1e-9);
    assert.match(all, /trained from random weights \(random:tiny/, 'the result says the weights started random');

    for (const side of [run.samples.plain, run.samples.dp]) {
      assert.equal(side.samples.length, 15);
      for (const s of side.samples.slice(10)) assert.ok(s.text.startsWith('François Dupont suffers'));
    }
    // Unconditional samples start after <|endoftext|> as the rows did, so they have text; but a tiny
    // model a few minutes old still gives <|endoftext|> itself some odds as a first token at
    // temperature 1, and its training order is drawn afresh each run, so how many of ten come out
    // empty is a binomial draw: CI saw 2 of 10 empty (non-DP). The old text<|endoftext|> layout,
    // which never trained the token after <|endoftext|>, gave 10 and 9 empty of 10; requiring half
    // still catches that, and fails spuriously with p(empty) = 0.2 once in 150 runs (at 0.1, once in
    // 6,800). The strict, deterministic check of the layout is test/sdk/first-words.test.ts.
    const nonEmpty = (side: typeof run.samples.plain) => side.samples.slice(0, 10).filter((s) => s.text.length > 0).length;
    const shown = (side: typeof run.samples.plain) => JSON.stringify(side.samples.slice(0, 10).map((s) => s.text));
    assert.ok(nonEmpty(run.samples.plain) >= 5, `unconditional samples have text: ${shown(run.samples.plain)}`);
    // The DP model of this test takes about ten noisy steps.
    assert.ok(nonEmpty(run.samples.dp) >= 5, `unconditional DP samples have text: ${shown(run.samples.dp)}`);
  }, { env });
});
