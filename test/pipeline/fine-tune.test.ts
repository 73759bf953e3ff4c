// The fineTune workflow end to end on the real Temporal and MinIO servers, with in-process
// workers: a DP fine-tune of a tiny GPT-2 that reserves, commits and registers (and shows its
// status, ε and pseudonymous analyst and dataset as search attributes); a refusal when the budget
// cannot cover the target, which ends FAILED with its result; bad input refused before anything is
// charged.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WorkflowFailedError, type Client } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { PLANTED_SECRET, SECRET_PREFIX, generatePatientNotes } from '../../clients/demo/patient-notes.ts';
import { addDataset } from '../../clients/sdk/datasets.ts';
import { addOwnerCanaries } from '../../clients/sdk/audit.ts';
import { grantBudget } from '../../clients/sdk/budget.ts';
import { ledgerBalance } from '../helpers/ledger.ts';
import { checkpointsRoot, modelPrefix, type ArtifactStore } from '../../infra/storage/index.ts';
import { KEPT_CHECKPOINTS } from '../../activities/training/checkpoints.ts';
import { signRequest } from '../../infra/access/index.ts';
import type { FineTuneInput, FineTuneResult } from '../../contracts/fine-tune.ts';
import type { SampleResult } from '../../contracts/sample.ts';
import { uniqueName } from '../helpers/names.ts';
import { newAnalyst, newOwner, ownerLedger, signedBy, type TestPrincipal } from '../helpers/principals.ts';
import { testStore } from '../helpers/storage.ts';
import { connectTestEnvironment, withWorker } from '../helpers/temporal.ts';
import { workflowFailure } from '../helpers/failures.ts';
import { pseudonymOf } from '../../activities/jobs/index.ts';
import { serviceSecret } from '../../infra/access/index.ts';
import { VEIL_ANALYST, VEIL_DATASET, VEIL_EPSILON, VEIL_STATUS } from '../../workflows/fine-tune/search-attributes.ts';
import { outcomeOf } from '../../clients/sdk/jobs/index.ts';
import { describeOutcome } from '../../clients/cli/job-format.ts';

let env: TestWorkflowEnvironment;
let store: ArtifactStore;
let owner: TestPrincipal;
const dataset = uniqueName('ft-notes');
/** The DP model the first test registers, and its analyst; the sampling tests reuse them. */
let trained: { modelId: string; analyst: TestPrincipal; epsilon: number } | undefined;

before(async () => {
  env = await connectTestEnvironment();
  store = await testStore();
  const dir = await mkdtemp(join(tmpdir(), 'veil-ft-'));
  const file = join(dir, 'notes.jsonl');
  await writeFile(file, generatePatientNotes({ rows: 80, secretCopies: 2, seed: 'ft-test' }).map((r) => JSON.stringify(r)).join('\n') + '\n');
  owner = await newOwner('ft-owner');
  await withWorker(async ({ client, taskQueue }) => addDataset(client, taskQueue, dataset, file, { token: owner.token }), { env, gpu: false });
  // The owner's canary, registered through S3: the audit looks for it without the fine-tune naming it.
  const canaries = join(dir, 'canaries.jsonl');
  await writeFile(canaries, JSON.stringify({ prompt: SECRET_PREFIX, secret: PLANTED_SECRET }) + '\n');
  const registered = await withWorker(async ({ client, taskQueue }) => addOwnerCanaries(client, taskQueue, owner.token, dataset, canaries), { env });
  assert.deepEqual(registered, { dataset, added: 1, total: 1 });
});

after(async () => {
  await env?.teardown();
});

function spec(analyst: string, overrides: Partial<FineTuneInput['training']> = {}): FineTuneInput {
  return {
    analyst,
    dataset: { name: dataset },
    textColumn: 'note',
    split: { kind: 'ratio', testFraction: 0.1 },
    model: { base: 'tiny', seed: 'ft-test', maxSeqLen: 24 },
    training: { targetEpsilon: 8, delta: 1e-5, batchSize: 12, epochs: 0.5, maxGradNorm: 1, lr: 1e-3, checkpointEvery: 2, ...overrides },
    audit: { insertCanaries: 20 },
  };
}

/** The search attributes Temporal's describe() shows for a workflow (what the UI's list shows). */
async function listedAttributes(client: Client, workflowId: string): Promise<Record<string, unknown>> {
  const d = await client.workflow.getHandle(workflowId).describe();
  return Object.fromEntries([VEIL_STATUS, VEIL_EPSILON, VEIL_ANALYST, VEIL_DATASET].map((key) => [key.name, d.typedSearchAttributes.get(key as never)]));
}

test('a DP fine-tune reserves, trains, evaluates, commits what it spent and registers the model', async () => {
  await withWorker(async ({ client, taskQueue }) => {
    const alice = await newAnalyst('alice');
    const analyst = alice.id;
    await grantBudget(client, { dataset, analyst, epsilon: 10, delta: 5e-3 }, ownerLedger(owner, taskQueue));
    const workflowId = uniqueName('ft');
    const result: FineTuneResult = await client.workflow.execute('fineTune', { taskQueue, workflowId, args: [signedBy(alice, 'fineTune', spec(analyst, { checkpointEvery: 1 }))] });
    assert.equal(result.status, 'completed', result.message);
    // The UI's list: its status and ε, and keyed pseudonyms of the analyst and dataset, never their names.
    const secret = await serviceSecret(store);
    assert.deepEqual(await listedAttributes(client, workflowId), {
      VeilStatus: 'completed',
      VeilEpsilon: result.epsilon,
      VeilAnalyst: pseudonymOf(secret, 'analyst', analyst),
      VeilDataset: pseudonymOf(secret, 'dataset', dataset),
    });
    const listed = await client.workflow.count(`WorkflowId = '${workflowId}' AND VeilStatus = 'completed' AND VeilAnalyst = '${pseudonymOf(secret, 'analyst', analyst)}'`);
    assert.equal(listed.count, 1, 'the list query finds the job by its status and analyst pseudonym');
    assert.ok(typeof result.epsilon === 'number' && result.epsilon > 0.1 && result.epsilon <= 8 + 1e-9, `ε=${result.epsilon}`);
    assert.ok(result.noiseMultiplier > 0);
    assert.match(result.message, /^Differentially-private evaluation \(epsilon=\d+\.\d\d\)/);
    assert.ok(result.evaluation && Number.isFinite(result.evaluation.testLoss) && result.evaluation.perplexity >= 1);
    const b = await ledgerBalance({ dataset, analyst });
    assert.ok(Math.abs(b.committed.epsilon - (result.epsilon as number)) < 1e-9, 'the ledger charged exactly the ε the run reports');
    assert.equal(b.reserved.epsilon, 0);
    const manifest = await store.readManifest(modelPrefix(result.modelId));
    for (const file of ['config.json', 'model.safetensors', 'veil.json', 'vocab.json', 'merges.txt']) assert.ok(manifest.entries[file], `model has ${file}`);
    assert.equal(manifest.meta.epsilon, result.epsilon);
    assert.equal(manifest.meta.analyst, analyst);
    // A checkpoint every step, the older ones deleted as the newer were committed.
    const kept = await store.listPrefixes(checkpointsRoot(result.jobId));
    assert.ok(result.steps > KEPT_CHECKPOINTS, `${result.steps} steps: enough checkpoints to prune`);
    assert.deepEqual(kept.sort(), [result.steps - 1, result.steps].map((s) => `step-${s}`).sort(), 'only the newest two checkpoints are kept');
    assert.deepEqual(manifest.meta.dataset, { name: dataset, version: 1 });
    assert.ok(result.audit, 'the model was audited');
    assert.equal(result.audit.ownerCanaries.count, 1, 'the owner\'s canary, read from S3, was audited');
    assert.equal(result.audit.ownerCanaries.details, undefined, 'per-canary results are the owner\'s');
    assert.ok(result.audit.oneRun && result.audit.oneRun.canaries === 20 && result.audit.oneRun.epsilonLowerBound <= result.epsilon, JSON.stringify(result.audit.oneRun));
    assert.equal(result.audit.failed, false);
    assert.equal(result.audit.membership, undefined, 'membership inference scores private rows: owner only for a DP model');
    const ownerAudit = await store.readManifest(`audits/${result.modelId}`);
    assert.ok(ownerAudit.entries['audit.html']);
    const auc = (ownerAudit.meta.summary as { membership: { auc: number } }).membership.auc;
    assert.ok(auc >= 0 && auc <= 1);
    trained = { modelId: result.modelId, analyst: alice, epsilon: result.epsilon as number };
  }, { env });
});

test('a target the remaining budget cannot cover ends FAILED (BudgetExhausted) with its result, and charges nothing', async () => {
  await withWorker(async ({ client, taskQueue }) => {
    const bob = await newAnalyst('bob');
    const analyst = bob.id;
    await grantBudget(client, { dataset, analyst, epsilon: 2, delta: 5e-3 }, ownerLedger(owner, taskQueue));
    const workflowId = uniqueName('ft');
    const refusal = await workflowFailure(client.workflow.execute('fineTune', { taskQueue, workflowId, args: [signedBy(bob, 'fineTune', spec(analyst))] }));
    assert.equal(refusal.type, 'BudgetExhausted');
    assert.match(refusal.message, /requested ε=[78](\.\d+)? but only ε=2 remains/);
    assert.equal((await client.workflow.getHandle(workflowId).describe()).status.name, 'FAILED');
    // The SDK and the CLI read the same result as before from the failure.
    const outcome = await outcomeOf<FineTuneResult>(client, workflowId);
    assert.equal(outcome.status, 'failed');
    assert.equal(outcome.status === 'failed' && outcome.result?.status, 'budget-exhausted');
    assert.match(describeOutcome(outcome), /^budget exhausted: requested ε=[78](\.\d+)? but only ε=2 remains/);
    assert.equal((await listedAttributes(client, workflowId)).VeilStatus, 'budget-exhausted');
    const b = await ledgerBalance({ dataset, analyst });
    assert.equal(b.committed.epsilon, 0);
    assert.equal(b.reserved.epsilon, 0);
  }, { env, gpu: false });
});

test('invalid input fails at once, listing every problem, and charges nothing', async () => {
  await withWorker(async ({ client, taskQueue }) => {
    const carol = await newAnalyst('carol');
    const analyst = carol.id;
    const bad = signedBy(carol, 'fineTune', { ...spec(analyst, { batchSize: -3 }), textColumn: '', model: { base: 'tiny', maxSeqLen: 1 } });
    await assert.rejects(client.workflow.execute('fineTune', { taskQueue, workflowId: uniqueName('ft'), args: [bad] }), (err: unknown) => {
      assert.ok(err instanceof WorkflowFailedError);
      const message = String(err.cause?.message);
      for (const path of ['training.batchSize', 'textColumn', 'model.maxSeqLen']) assert.match(message, new RegExp(path.replace('.', '\\.')));
      return true;
    });
    const b = await ledgerBalance({ dataset, analyst });
    assert.equal(b.committed.epsilon + b.reserved.epsilon, 0);
  }, { env, gpu: false });
});

/** The refusal type and message of a workflow that failed in an activity (the authorization). */
async function activityRefusal(run: Promise<unknown>): Promise<{ type: string | undefined; message: string }> {
  const err = await run.then(() => assert.fail('accepted'), (e: unknown) => e);
  assert.ok(err instanceof WorkflowFailedError, String(err));
  const cause = err.cause?.cause as (Error & { type?: string }) | undefined;
  return { type: cause?.type, message: String(cause?.message) };
}

test("'unlimited' (no DP) is refused for an analyst who is not privileged", async () => {
  await withWorker(async ({ client, taskQueue }) => {
    const dave = await newAnalyst('dave');
    const refused = await activityRefusal(client.workflow.execute('fineTune', { taskQueue, workflowId: uniqueName('ft'), args: [signedBy(dave, 'fineTune', spec(dave.id, { targetEpsilon: 'unlimited' }))] }));
    assert.equal(refused.type, 'Forbidden');
    assert.match(refused.message, /may not train without differential privacy/);
  }, { env, gpu: false });
});

test('a fine-tune runs only signed by its own analyst: unsigned, impersonated, tampered and owner requests are refused', async () => {
  await withWorker(async ({ client, taskQueue }) => {
    const erin = await newAnalyst('erin');
    const mallory = await newAnalyst('mallory');
    await grantBudget(client, { dataset, analyst: erin.id, epsilon: 10, delta: 5e-3 }, ownerLedger(owner, taskQueue));
    const run = (input: object) => activityRefusal(client.workflow.execute('fineTune', { taskQueue, workflowId: uniqueName('ft'), args: [input] }));
    const unsigned = await run(spec(erin.id));
    assert.equal(unsigned.type, 'Unauthenticated');
    // Mallory signs a job that would spend Erin's budget.
    const impersonated = await run(signedBy(mallory, 'fineTune', spec(erin.id)));
    assert.equal(impersonated.type, 'Forbidden');
    assert.match(impersonated.message, /may only run jobs as itself/);
    // Erin's signed request, with its ε raised afterwards.
    const signed = signedBy(erin, 'fineTune', spec(erin.id));
    const tampered = await run({ ...signed, training: { ...signed.training, targetEpsilon: 9 } });
    assert.equal(tampered.type, 'Unauthenticated');
    // A data owner does not fine-tune (the owner reads the data anyway; analysts are who DP protects it from).
    const byOwner = await run(signedBy(owner, 'fineTune', spec(owner.id)));
    assert.equal(byOwner.type, 'Forbidden');
    // A signature for a sample request does not authorize a fine-tune.
    const wrongAction = await run(signRequest(erin.token, 'sample', spec(erin.id)));
    assert.equal(wrongAction.type, 'Unauthenticated');
    const b = await ledgerBalance({ dataset, analyst: erin.id });
    assert.equal(b.committed.epsilon + b.reserved.epsilon, 0, 'no refused request held or spent budget');
  }, { env, gpu: false });
});

test('samples are released from a DP model within the accepted ε, stored in S3, and refused above it', async () => {
  assert.ok(trained, 'needs the model of the first test');
  const { modelId, analyst: alice, epsilon } = trained;
  const analyst = alice.id;
  await withWorker(async ({ client, taskQueue }) => {
    const ok: SampleResult = await client.workflow.execute('sample', {
      taskQueue,
      workflowId: uniqueName('sample'),
      args: [signedBy(alice, 'sample', { analyst, modelId, prompts: ['François Dupont suffers'], unconditional: 2, maxEpsilon: 10, maxNewTokens: 8, seed: 's' })],
    });
    assert.equal(ok.samples.length, 3);
    assert.ok(ok.samples[0].text.startsWith('François Dupont suffers'));
    assert.equal(ok.epsilon, epsilon);
    const stored = await store.readManifest(ok.key.replace(/\/samples\.json$/, ''));
    assert.ok(stored.entries['samples.json']);

    const refuse = (args: object, pattern: RegExp, who: TestPrincipal = alice) =>
      assert.rejects(client.workflow.execute('sample', { taskQueue, workflowId: uniqueName('sample'), args: [signedBy(who, 'sample', args)] }), (err: unknown) => {
        assert.ok(err instanceof WorkflowFailedError);
        assert.match(String((err.cause?.cause as Error | undefined)?.message ?? err.cause?.message), pattern);
        return true;
      });
    await refuse({ analyst, modelId, unconditional: 1, maxEpsilon: 1 }, /spent ε=\d+\.\d+, above the accepted ε=1/);
    const mallory = await newAnalyst('mallory');
    await refuse({ analyst: mallory.id, modelId, unconditional: 1, maxEpsilon: 100 }, /belongs to another analyst/, mallory);
    await refuse({ analyst, modelId, unconditional: 1, maxEpsilon: 100 }, /may only run jobs as itself/, mallory);
    await refuse({ analyst: mallory.id, modelId, unconditional: 1, maxEpsilon: 'unlimited' }, /may not sample without differential privacy/, mallory);
  }, { env });
});

test('a job id the storage layout would refuse ("@") is refused at the boundary: nothing read, nothing charged', async () => {
  await withWorker(async ({ client, taskQueue }) => {
    const frank = await newAnalyst('frank');
    await grantBudget(client, { dataset, analyst: frank.id, epsilon: 10, delta: 5e-3 }, ownerLedger(owner, taskQueue));
    const unique = uniqueName('job');
    const input = signedBy(frank, 'fineTune', { ...spec(frank.id), jobId: `frank@${unique}` });
    const err = await client.workflow.execute('fineTune', { taskQueue, workflowId: uniqueName('ft'), args: [input] }).then(() => assert.fail('accepted'), (e: unknown) => e);
    assert.ok(err instanceof WorkflowFailedError, String(err));
    const cause = err.cause as (Error & { type?: string }) | undefined;
    assert.equal(cause?.type, 'InvalidInput');
    assert.match(String(cause?.message), /jobId: letters, digits/);
    const b = await ledgerBalance({ dataset, analyst: frank.id });
    assert.equal(b.committed.epsilon + b.reserved.epsilon + b.committed.delta + b.reserved.delta, 0, 'nothing held or charged');
    assert.deepEqual((await store.listObjects('runs/')).filter((o) => o.key.includes(unique)), [], 'nothing written for the job');
  }, { env, gpu: false });
});
