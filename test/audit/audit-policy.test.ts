// A data owner's audit policy on the real servers: the owner's minimum of inserted canaries raises a
// fine-tune that asked for none (the model still gets its empirical ε bound), only the dataset's
// owner may set it, and a signed policy change cannot be replayed.
import { before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { generatePatientNotes } from '../../clients/demo/patient-notes.ts';
import { addDataset } from '../../clients/sdk/datasets.ts';
import { grantBudget } from '../../clients/sdk/budget.ts';
import { setAuditPolicy } from '../../clients/sdk/audit-policy.ts';
import { AUDIT_POLICY_ACTION, SET_AUDIT_POLICY_WORKFLOW } from '../../contracts/audit.ts';
import type { FineTuneInput, FineTuneResult } from '../../contracts/fine-tune.ts';
import { signRequest } from '../../infra/access/index.ts';
import { workflowFailure } from '../helpers/failures.ts';
import { uniqueName } from '../helpers/names.ts';
import { newAnalyst, newOwner, ownerLedger, signedBy, type TestPrincipal } from '../helpers/principals.ts';
import { connectTestEnvironment, withWorker } from '../helpers/temporal.ts';

let env: TestWorkflowEnvironment;
let owner: TestPrincipal;
const dataset = uniqueName('policy-notes');

before(async () => {
  env = await connectTestEnvironment();
  const file = join(await mkdtemp(join(tmpdir(), 'veil-policy-')), 'notes.jsonl');
  await writeFile(file, generatePatientNotes({ rows: 60, secretCopies: 0, seed: 'policy-test' }).map((r) => JSON.stringify(r)).join('\n') + '\n');
  owner = await newOwner('policy-owner');
  await withWorker(({ client, taskQueue }) => addDataset(client, taskQueue, dataset, file, { token: owner.token }), { env, gpu: false });
});

after(async () => {
  await env?.teardown();
});

test("only the dataset's owner sets its audit policy, and a signed change is good once", async () => {
  await withWorker(async ({ client, taskQueue }) => {
    const mallory = await newAnalyst('mallory');
    const forbidden = await workflowFailure(setAuditPolicy(client, taskQueue, mallory.token, dataset, { minInsertedCanaries: 0 }));
    assert.equal(forbidden.type, 'Forbidden', forbidden.message);
    const otherOwner = await newOwner('other-owner');
    assert.equal((await workflowFailure(setAuditPolicy(client, taskQueue, otherOwner.token, dataset, { minInsertedCanaries: 0 }))).type, 'Forbidden');

    const request = signRequest(owner.token, AUDIT_POLICY_ACTION, { dataset, policy: { minInsertedCanaries: 16 } });
    const first = await client.workflow.execute(SET_AUDIT_POLICY_WORKFLOW, { taskQueue, workflowId: uniqueName('policy'), args: [request] });
    assert.deepEqual(first, { dataset, policy: { minInsertedCanaries: 16 }, revision: 1 });
    // Replaying the owner's signed request (read from a history) would let anyone undo a later change.
    const replay = await workflowFailure(client.workflow.execute(SET_AUDIT_POLICY_WORKFLOW, { taskQueue, workflowId: uniqueName('policy'), args: [request] }));
    assert.match(`${replay.type} ${replay.message}`, /already|used|replay/i);
  }, { env });
});

test("a fine-tune that asks for no inserted canaries gets the owner's minimum, and its ε bound", async () => {
  await withWorker(async ({ client, taskQueue }) => {
    const result = await setAuditPolicy(client, taskQueue, owner.token, dataset, { minInsertedCanaries: 24 });
    assert.equal(result.policy.minInsertedCanaries, 24);
    const alice = await newAnalyst('alice');
    await grantBudget(client, { dataset, analyst: alice.id, epsilon: 10, delta: 5e-3 }, ownerLedger(owner, taskQueue));
    const input: FineTuneInput = {
      analyst: alice.id,
      dataset: { name: dataset },
      textColumn: 'note',
      split: { kind: 'ratio', testFraction: 0.1 },
      model: { base: 'tiny', seed: 'policy-test', maxSeqLen: 24 },
      training: { targetEpsilon: 8, delta: 1e-5, batchSize: 12, epochs: 0.5, maxGradNorm: 1, lr: 1e-3, checkpointEvery: 4 },
      audit: { insertCanaries: 0 },
    };
    const job: FineTuneResult = await client.workflow.execute('fineTune', { taskQueue, workflowId: uniqueName('ft'), args: [signedBy(alice, 'fineTune', input)] });
    assert.equal(job.status, 'completed', job.message);
    assert.ok(job.audit?.oneRun, 'the audit ran the one-run bound on the inserted canaries');
    assert.equal(job.audit.oneRun.canaries, 24, "the owner's minimum, not the request's 0");
    assert.ok(job.audit.oneRun.epsilonLowerBound <= (job.epsilon as number), JSON.stringify(job.audit.oneRun));
  }, { env });
});
