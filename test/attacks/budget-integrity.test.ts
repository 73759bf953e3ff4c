// The budget cannot be forged, erased or stalled: each attack below was reproduced against the
// previous design (a ledger entity workflow, reusable signed requests, calibration on the light
// worker's event loop) and is replayed here as an attacker who reaches the Temporal frontend would.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { generatePatientNotes } from '../../clients/demo/patient-notes.ts';
import { grantBudget } from '../../clients/sdk/budget.ts';
import { addDataset } from '../../clients/sdk/datasets.ts';
import type { FineTuneInput, FineTuneResult } from '../../contracts/fine-tune.ts';
import { signRequest } from '../../infra/access/index.ts';
import { runDataPrefix, type ArtifactStore } from '../../infra/storage/index.ts';
import { ledgerBalance } from '../helpers/ledger.ts';
import { uniqueName } from '../helpers/names.ts';
import { newAnalyst, newOwner, ownerLedger, signedBy, type TestPrincipal } from '../helpers/principals.ts';
import { testStore } from '../helpers/storage.ts';
import { connectTestEnvironment, withWorker } from '../helpers/temporal.ts';
import { workflowFailure } from '../helpers/failures.ts';

let env: TestWorkflowEnvironment;
let store: ArtifactStore;
let owner: TestPrincipal;
const dataset = uniqueName('attack-notes');

before(async () => {
  env = await connectTestEnvironment();
  store = await testStore();
  const dir = await mkdtemp(join(tmpdir(), 'veil-attack-'));
  const file = join(dir, 'notes.jsonl');
  await writeFile(file, generatePatientNotes({ rows: 60, secretCopies: 1, seed: 'attack' }).map((r) => JSON.stringify(r)).join('\n') + '\n');
  owner = await newOwner('attack-owner');
  await withWorker(async ({ client, taskQueue }) => addDataset(client, taskQueue, dataset, file, { token: owner.token }), { env, gpu: false });
});

after(async () => {
  await env?.teardown();
});

function spec(analyst: string, training: Partial<FineTuneInput['training']> = {}, model: Partial<FineTuneInput['model']> = {}): FineTuneInput {
  return {
    analyst,
    dataset: { name: dataset },
    textColumn: 'note',
    split: { kind: 'ratio', testFraction: 0.2 },
    model: { base: 'tiny', seed: 'attack', maxSeqLen: 16, ...model },
    training: { targetEpsilon: 4, delta: 1e-3, batchSize: 12, epochs: 0.3, lr: 1e-3, checkpointEvery: 2, ...training },
  };
}

test('a ledger workflow started with a forged state grants nothing: the job ends budget-exhausted and the owner\'s grant still applies', async () => {
  await withWorker(async ({ client, taskQueue }) => {
    const mallory = await newAnalyst('mallory');
    // What used to work: pre-create the ledger entity with a generous state and a grant "issued" in 2255.
    const forged = { dataset, analyst: mallory.id, state: { dataset, analyst: mallory.id, grant: { epsilon: 1000, delta: 0.5 }, grantIssuedAt: Date.UTC(2255, 0, 1), reservations: {} } };
    const handle = await client.workflow.start('privacyLedger', { taskQueue, workflowId: `ledger/${dataset}/${mallory.id}`, args: [forged] });
    const refused = await workflowFailure(client.workflow.execute('fineTune', { taskQueue, workflowId: uniqueName('ft'), args: [signedBy(mallory, 'fineTune', spec(mallory.id, { targetEpsilon: 20 }))] }));
    assert.equal(refused.type, 'BudgetExhausted', refused.message);
    assert.equal((await ledgerBalance({ dataset, analyst: mallory.id })).granted.epsilon, 0);
    // The owner's real grant is not "stale" against the forged 2255 one.
    const granted = await grantBudget(client, { dataset, analyst: mallory.id, epsilon: 1, delta: 1e-3 }, ownerLedger(owner, taskQueue));
    assert.equal(granted.granted.epsilon, 1);
    await handle.terminate('attack test done').catch(() => undefined);
  }, { env });
});

test('a signed fine-tune read from history cannot run again under another workflow id', async () => {
  await withWorker(async ({ client, taskQueue }) => {
    const erin = await newAnalyst('erin');
    await grantBudget(client, { dataset, analyst: erin.id, epsilon: 20, delta: 1e-2 }, ownerLedger(owner, taskQueue));
    const signed = signedBy(erin, 'fineTune', spec(erin.id));
    const first: FineTuneResult = await client.workflow.execute('fineTune', { taskQueue, workflowId: uniqueName('ft'), args: [signed] });
    assert.equal(first.status, 'completed', first.message);
    const charged = (await ledgerBalance({ dataset, analyst: erin.id })).committed.epsilon;
    for (let i = 0; i < 2; i++) {
      const replay = await workflowFailure(client.workflow.execute('fineTune', { taskQueue, workflowId: uniqueName('replay'), args: [signed] }));
      assert.equal(replay.type, 'Unauthenticated');
      assert.match(replay.message, /already used by another workflow/);
    }
    assert.equal((await ledgerBalance({ dataset, analyst: erin.id })).committed.epsilon, charged, 'the analyst was charged once');
    // A signed request without a job id is refused: the id is what ties it to one job.
    const noJob = await workflowFailure(client.workflow.execute('fineTune', { taskQueue, workflowId: uniqueName('ft'), args: [signRequest(erin.token, 'fineTune', spec(erin.id))] }));
    assert.equal(noJob.type, 'InvalidInput');
  }, { env });
});

test('bad requests are refused at the boundary and cost nothing, δ included: huge ε, unknown or escaping base models, δ ≥ 1/N, no grant', async () => {
  await withWorker(async ({ client, taskQueue }) => {
    const dave = await newAnalyst('dave');
    await grantBudget(client, { dataset, analyst: dave.id, epsilon: 50, delta: 1e-2 }, ownerLedger(owner, taskQueue));
    const run = (input: FineTuneInput) => workflowFailure(client.workflow.execute('fineTune', { taskQueue, workflowId: uniqueName('ft'), args: [signedBy(dave, 'fineTune', input)] }));
    assert.equal((await run(spec(dave.id, { targetEpsilon: 1e308 }))).type, 'InvalidInput');
    assert.equal((await run(spec(dave.id, {}, { base: 'gpt3' }))).type, 'InvalidInput');
    assert.equal((await run(spec(dave.id, {}, { base: 'models/../runs' }))).type, 'InvalidInput');
    assert.equal((await run(spec(dave.id, {}, { base: `models/${uniqueName('nope')}` }))).type, 'ModelNotFound');
    const tooBig = await run(spec(dave.id, { delta: 0.1 }));
    assert.equal(tooBig.type, 'InvalidTrainingConfig');
    assert.match(tooBig.message, /not below 1\/N = 1\/60/);
    const b = await ledgerBalance({ dataset, analyst: dave.id });
    assert.deepEqual([b.reserved, b.committed, b.reservations.total], [{ epsilon: 0, delta: 0 }, { epsilon: 0, delta: 0 }, 0], 'nothing held or charged');

    // An analyst with no grant: refused before any row is read (no prepared data for the job).
    const nora = await newAnalyst('nora');
    const input = signedBy(nora, 'fineTune', spec(nora.id));
    const refused = await workflowFailure(client.workflow.execute('fineTune', { taskQueue, workflowId: uniqueName('ft'), args: [input] }));
    assert.equal(refused.type, 'BudgetExhausted');
    assert.equal(await store.tryReadManifest(runDataPrefix(input.jobId!)), undefined, 'no private row was read');
    // A catalog read of a path-like name is refused at once, not retried for a minute.
    const started = Date.now();
    const describe = await workflowFailure(client.workflow.execute('catalog', { taskQueue, workflowId: uniqueName('cat'), args: [signedBy(nora, 'catalog', { query: { kind: 'describe', name: '../x' } })] }));
    assert.equal(describe.type, 'InvalidInput');
    assert.ok(Date.now() - started < 10_000, `refused in ${Date.now() - started} ms`);
  }, { env, gpu: false });
});

test('a reset of a finished DP job reruns nothing that costs privacy: the kept result comes back and the ledger is unchanged', async () => {
  await withWorker(async ({ client, taskQueue }) => {
    const rita = await newAnalyst('rita');
    await grantBudget(client, { dataset, analyst: rita.id, epsilon: 20, delta: 1e-2 }, ownerLedger(owner, taskQueue));
    const workflowId = uniqueName('ft');
    const first: FineTuneResult = await client.workflow.execute('fineTune', { taskQueue, workflowId, args: [signedBy(rita, 'fineTune', spec(rita.id))] });
    assert.equal(first.status, 'completed', first.message);
    const before = await ledgerBalance({ dataset, analyst: rita.id });
    // Reset to the first workflow task: the whole job replays from its start, as an attacker (or the UI's Reset) would make it.
    const history = await client.workflow.getHandle(workflowId).fetchHistory();
    const firstTask = history.events!.find((e) => e.workflowTaskCompletedEventAttributes)!;
    const { runId } = await client.workflowService.resetWorkflowExecution({
      namespace: client.options.namespace,
      workflowExecution: { workflowId },
      workflowTaskFinishEventId: firstTask.eventId,
      requestId: uniqueName('reset'),
      reason: 'attack test',
    });
    const again = (await client.workflow.getHandle(workflowId, runId!).result()) as FineTuneResult;
    assert.deepEqual(again, first, 'the same release, not fresh noise');
    const afterReset = await ledgerBalance({ dataset, analyst: rita.id });
    assert.deepEqual(afterReset.committed, before.committed);
    assert.equal(afterReset.reserved.epsilon, 0);
  }, { env });
});
