// The fineTune workflow end to end on the real Temporal and MinIO servers, with in-process
// workers: a DP fine-tune of a tiny GPT-2 that reserves, commits and registers; a refusal when
// the budget cannot cover the target; bad input refused before anything is charged.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { generatePatientNotes } from '../../clients/demo/patientNotes.ts';
import { addDataset } from '../../clients/sdk/datasets.ts';
import { balance, grantBudget } from '../../clients/sdk/ledger.ts';
import { modelPrefix, type ArtifactStore } from '../../infra/storage/index.ts';
import type { FineTuneInput, FineTuneResult } from '../../workflows/fineTune/spec.ts';
import type { SampleResult } from '../../workflows/sample/spec.ts';
import { uniqueName } from '../helpers/names.ts';
import { testStore } from '../helpers/storage.ts';
import { connectTestEnvironment, withWorker } from '../helpers/temporal.ts';

let env: TestWorkflowEnvironment;
let store: ArtifactStore;
const dataset = uniqueName('ft-notes');
/** The DP model the first test registers, and its analyst; the sampling tests reuse them. */
let trained: { modelId: string; analyst: string; epsilon: number } | undefined;

before(async () => {
  env = await connectTestEnvironment();
  store = await testStore();
  const dir = await mkdtemp(join(tmpdir(), 'veil-ft-'));
  const file = join(dir, 'notes.jsonl');
  await writeFile(file, generatePatientNotes({ rows: 80, secretCopies: 2, seed: 'ft-test' }).map((r) => JSON.stringify(r)).join('\n') + '\n');
  await withWorker(async ({ client, taskQueue }) => addDataset(client, store, taskQueue, dataset, file), { env, gpu: false });
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
    training: { targetEpsilon: 8, batchSize: 12, epochs: 0.5, maxGradNorm: 1, lr: 1e-3, checkpointEvery: 2, ...overrides },
  };
}

test('a DP fine-tune reserves, trains, evaluates, commits what it spent and registers the model', async () => {
  await withWorker(async ({ client, taskQueue }) => {
    const analyst = uniqueName('alice');
    await grantBudget(client, { dataset, analyst, epsilon: 10, delta: 0.1 }, { taskQueue });
    const result: FineTuneResult = await client.workflow.execute('fineTune', { taskQueue, workflowId: uniqueName('ft'), args: [spec(analyst)] });
    assert.equal(result.status, 'completed', result.message);
    assert.ok(typeof result.epsilon === 'number' && result.epsilon > 0.1 && result.epsilon <= 8 + 1e-9, `ε=${result.epsilon}`);
    assert.ok(result.noiseMultiplier > 0);
    assert.match(result.message, /^Differentially-private evaluation \(epsilon=\d+\.\d\d\)/);
    assert.ok(result.evaluation && Number.isFinite(result.evaluation.testLoss) && result.evaluation.perplexity >= 1);
    const b = await balance(client, { dataset, analyst });
    assert.ok(Math.abs(b.committed.epsilon - (result.epsilon as number)) < 1e-9, 'the ledger charged exactly the ε the run reports');
    assert.equal(b.reserved.epsilon, 0);
    const manifest = await store.readManifest(modelPrefix(result.modelId));
    for (const file of ['config.json', 'model.safetensors', 'veil.json', 'vocab.json', 'merges.txt']) assert.ok(manifest.entries[file], `model has ${file}`);
    assert.equal(manifest.meta.epsilon, result.epsilon);
    assert.equal(manifest.meta.analyst, analyst);
    assert.deepEqual(manifest.meta.dataset, { name: dataset, version: 1 });
    assert.ok(result.audit, 'the model was audited');
    assert.ok(result.audit.canary.candidates >= 1000 && result.audit.canary.rank >= 1);
    assert.ok(result.audit.membership.auc >= 0 && result.audit.membership.auc <= 1);
    assert.ok((await store.readManifest(`audits/${result.modelId}`)).entries['audit.html']);
    trained = { modelId: result.modelId, analyst, epsilon: result.epsilon as number };
  }, { env });
});

test('a target the remaining budget cannot cover ends with "budget exhausted" and charges nothing', async () => {
  await withWorker(async ({ client, taskQueue }) => {
    const analyst = uniqueName('bob');
    await grantBudget(client, { dataset, analyst, epsilon: 2, delta: 0.1 }, { taskQueue });
    const result: FineTuneResult = await client.workflow.execute('fineTune', { taskQueue, workflowId: uniqueName('ft'), args: [spec(analyst)] });
    assert.equal(result.status, 'budget-exhausted');
    assert.match(result.message, /requested ε=[78](\.\d+)? but only ε=2 remains/);
    const b = await balance(client, { dataset, analyst });
    assert.equal(b.committed.epsilon, 0);
    assert.equal(b.reserved.epsilon, 0);
  }, { env, gpu: false });
});

test('invalid input fails at once, listing every problem, and charges nothing', async () => {
  await withWorker(async ({ client, taskQueue }) => {
    const analyst = uniqueName('carol');
    const bad = { ...spec(analyst, { batchSize: -3 }), textColumn: '', model: { base: 'tiny', maxSeqLen: 1 } };
    await assert.rejects(client.workflow.execute('fineTune', { taskQueue, workflowId: uniqueName('ft'), args: [bad] }), (err: unknown) => {
      assert.ok(err instanceof WorkflowFailedError);
      const message = String(err.cause?.message);
      for (const path of ['training.batchSize', 'textColumn', 'model.maxSeqLen']) assert.match(message, new RegExp(path.replace('.', '\\.')));
      return true;
    });
    const b = await balance(client, { dataset, analyst });
    assert.equal(b.committed.epsilon + b.reserved.epsilon, 0);
  }, { env, gpu: false });
});

test("'unlimited' (no DP) is refused for an analyst who is not privileged", async () => {
  await withWorker(async ({ client, taskQueue }) => {
    const analyst = uniqueName('dave');
    await assert.rejects(
      client.workflow.execute('fineTune', { taskQueue, workflowId: uniqueName('ft'), args: [spec(analyst, { targetEpsilon: 'unlimited' })] }),
      (err: unknown) => err instanceof WorkflowFailedError && /may not train without differential privacy/.test(String((err.cause?.cause as Error | undefined)?.message)),
    );
  }, { env });
});

test('samples are released from a DP model within the accepted ε, stored in S3, and refused above it', async () => {
  assert.ok(trained, 'needs the model of the first test');
  const { modelId, analyst, epsilon } = trained;
  await withWorker(async ({ client, taskQueue }) => {
    const ok: SampleResult = await client.workflow.execute('sample', {
      taskQueue,
      workflowId: uniqueName('sample'),
      args: [{ analyst, modelId, prompts: ['François Dupont suffers'], unconditional: 2, maxEpsilon: 10, maxNewTokens: 8, seed: 's' }],
    });
    assert.equal(ok.samples.length, 3);
    assert.ok(ok.samples[0].text.startsWith('François Dupont suffers'));
    assert.equal(ok.epsilon, epsilon);
    const stored = await store.readManifest(ok.key.replace(/\/samples\.json$/, ''));
    assert.ok(stored.entries['samples.json']);

    const refuse = (args: object, pattern: RegExp) =>
      assert.rejects(client.workflow.execute('sample', { taskQueue, workflowId: uniqueName('sample'), args: [args] }), (err: unknown) => {
        assert.ok(err instanceof WorkflowFailedError);
        assert.match(String((err.cause?.cause as Error | undefined)?.message ?? err.cause?.message), pattern);
        return true;
      });
    await refuse({ analyst, modelId, unconditional: 1, maxEpsilon: 1 }, /spent ε=\d+\.\d+, above the accepted ε=1/);
    await refuse({ analyst: uniqueName('mallory'), modelId, unconditional: 1, maxEpsilon: 100 }, /belongs to another analyst/);
  }, { env });
});
