// The notebook-style SDK end to end: ingest builds the DP synthetic twin (its ε on the ledger),
// previews show synthetic rows only, recorded traced functions are dry-run on them, and
// client.eval runs the DP fine-tune and prints the evaluation line; the fitted model samples.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { generatePatientNotes, PLANTED_SECRET } from '../../clients/demo/patient-notes.ts';
import { GPT2, VeilClient } from '../../clients/sdk/client.ts';
import { ledgerBalance } from '../helpers/ledger.ts';
import { TWIN_ANALYST } from '../../activities/synthetic/twin.ts';
import { trace } from '../../engine/sandbox/index.ts';
import { uniqueName } from '../helpers/names.ts';
import { newAnalyst, newOwner } from '../helpers/principals.ts';
import { connectTestEnvironment, withWorker } from '../helpers/temporal.ts';

let env: TestWorkflowEnvironment;
let file: string;

before(async () => {
  env = await connectTestEnvironment();
  const dir = await mkdtemp(join(tmpdir(), 'veil-nb-'));
  file = join(dir, 'notes.jsonl');
  await writeFile(file, generatePatientNotes({ rows: 120, secretCopies: 3, seed: 'nb' }).map((r) => JSON.stringify(r)).join('\n') + '\n');
});

after(async () => {
  await env?.teardown();
});

test('ingest builds a DP twin; previews and dry runs see synthetic rows only; eval fine-tunes with DP and samples', async () => {
  await withWorker(async ({ client: temporal, taskQueue }) => {
    const owner = await VeilClient.connect({ temporal, taskQueue, token: (await newOwner('nb-owner')).token });
    const alice = await newAnalyst('nb-alice');
    const client = await VeilClient.connect({ temporal, taskQueue, token: alice.token });
    const name = uniqueName('nb-notes');
    const added = await owner.addDataset(name, file);
    assert.deepEqual(added.synthetic, { epsilon: 1, delta: 1e-6, previewRows: 200 });
    const twinLedger = await ledgerBalance({ dataset: name, analyst: TWIN_ANALYST });
    assert.equal(twinLedger.committed.epsilon, 1, "the twin's ε is on the dataset's books");

    const notes = client.dataset(name);
    const preview = await notes.preview(5);
    assert.equal(preview.notice, 'Evaluated from synthetic data only');
    assert.equal(preview.rows.length, 5);
    const previewText = JSON.stringify(preview.rows);
    assert.doesNotMatch(previewText, /Dupont|pancreatic/, 'a rare secret does not reach the twin');

    const X = notes.rename({ note: 'text' }).map('text', trace((s: string) => s.toUpperCase(), { name: 'upper' })).split({ testFraction: 0.2 });
    const shown = await X.preview(4);
    assert.equal(shown.dryRuns.length, 1);
    assert.equal(shown.dryRuns[0].notice, 'Evaluated from synthetic data only');
    for (const row of shown.rows) assert.equal(row.text, String(row.text).toUpperCase());

    const balanceAfterGrant = await owner.grantBudget({ dataset: name, analyst: alice.id, epsilon: 9, delta: 5e-3 });
    assert.equal(balanceAfterGrant.granted.epsilon, 9);
    // An analyst cannot grant itself more.
    await assert.rejects(client.grantBudget({ dataset: name, analyst: alice.id, epsilon: 100, delta: 5e-3 }), /only the dataset's owner/);
    const printed: string[] = [];
    const log = console.log;
    console.log = (line: string) => printed.push(line);
    let fitted;
    try {
      fitted = await client.eval(GPT2.create('tiny', { maxSeqLen: 24 }).fit(X, { batchSize: 16, epochs: 0.3 }), { targetEpsilon: 8, delta: 1e-5 });
    } finally {
      console.log = log;
    }
    assert.match(printed.join('\n'), /Differentially-private evaluation \(epsilon=\d+\.\d\d\)/);
    assert.ok(typeof fitted.result.epsilon === 'number' && fitted.result.epsilon <= 8 + 1e-9, "spent within the target, evaluation included");
    const out = await fitted.sample({ prompts: [PLANTED_SECRET.slice(0, 10)], maxNewTokens: 5, seed: 'x' });
    assert.equal(out.samples.length, 1);
    assert.ok(out.samples[0].text.startsWith(PLANTED_SECRET.slice(0, 10)));
    const spent = await client.budget({ dataset: name });
    assert.equal(spent.analyst, alice.id);
    assert.ok(Math.abs(spent.committed.epsilon - (fitted.result.epsilon as number)) < 1e-9, 'the fit was charged to the token holder');
  }, { env });
});
