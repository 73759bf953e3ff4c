// Laundering through the base model: a privileged analyst's non-DP model, fine-tuned on "with DP"
// for a moment, used to come out labelled with the last run's small ε and be released as DP. Now
// an analyst builds only on their own models, and a model's guarantee composes along its lineage.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { PLANTED_SECRET, generatePatientNotes } from '../../clients/demo/patient-notes.ts';
import { grantBudget } from '../../clients/sdk/budget.ts';
import { addDataset } from '../../clients/sdk/datasets.ts';
import type { FineTuneInput, FineTuneResult } from '../../contracts/fine-tune.ts';
import { modelPrefix } from '../../infra/storage/index.ts';
import { uniqueName } from '../helpers/names.ts';
import { newAnalyst, newOwner, ownerLedger, signedBy } from '../helpers/principals.ts';
import { testStore } from '../helpers/storage.ts';
import { connectTestEnvironment, withWorker } from '../helpers/temporal.ts';
import { workflowFailure } from '../helpers/failures.ts';

let env: TestWorkflowEnvironment;
before(async () => {
  env = await connectTestEnvironment();
});
after(async () => {
  await env?.teardown();
});

test("a non-DP model cannot be laundered: another analyst may not build on it, and its owner's DP run on top of it stays non-DP", async () => {
  const dir = await mkdtemp(join(tmpdir(), 'veil-lineage-'));
  const file = join(dir, 'notes.jsonl');
  await writeFile(file, generatePatientNotes({ rows: 60, secretCopies: 3, seed: 'lineage' }).map((r) => JSON.stringify(r)).join('\n') + '\n');
  const owner = await newOwner('lineage-owner');
  const researcher = await newAnalyst('researcher', { privileged: true });
  const analyst = await newAnalyst('ordinary');
  const dataset = uniqueName('lineage');
  await withWorker(async ({ client, taskQueue }) => {
    await addDataset(client, taskQueue, dataset, file, { token: owner.token });
    for (const who of [researcher, analyst]) await grantBudget(client, { dataset, analyst: who.id, epsilon: 20, delta: 1e-3 }, ownerLedger(owner, taskQueue));
    const spec = (who: string, targetEpsilon: number | 'unlimited', base: string): FineTuneInput => ({
      analyst: who,
      dataset: { name: dataset },
      textColumn: 'note',
      split: { kind: 'ratio', testFraction: 0.2 },
      model: { base, seed: 'lineage', maxSeqLen: 16 },
      training: { targetEpsilon, delta: targetEpsilon === 'unlimited' ? undefined : 1e-5, batchSize: 12, epochs: 0.3, lr: 1e-3, checkpointEvery: 2 },
    });
    const run = (who: typeof analyst, input: FineTuneInput) => client.workflow.execute('fineTune', { taskQueue, workflowId: uniqueName('ft'), args: [signedBy(who, 'fineTune', input)] }) as Promise<FineTuneResult>;
    const plain = await run(researcher, spec(researcher.id, 'unlimited', 'tiny'));
    assert.equal(plain.epsilon, 'unlimited');

    // The ordinary analyst tries to fine-tune "with DP" from the non-DP model.
    assert.equal((await workflowFailure(run(analyst, spec(analyst.id, 0.6, `models/${plain.modelId}`)))).type, 'Forbidden');
    const ledger = await (await import('../helpers/ledger.ts')).ledgerBalance({ dataset, analyst: analyst.id });
    assert.equal(ledger.committed.epsilon + ledger.reserved.epsilon, 0, 'refused before any budget was held');

    // Its owner may build on it, but the result is as non-DP as its base: not releasable as DP.
    const onTop = await run(researcher, spec(researcher.id, 0.6, `models/${plain.modelId}`));
    assert.equal(onTop.status, 'completed', onTop.message);
    const meta = (await (await testStore()).readManifest(modelPrefix(onTop.modelId))).meta as { guarantee: { epsilon: unknown }; lineage: { modelId: string }[] };
    assert.equal(meta.guarantee.epsilon, 'unlimited');
    assert.deepEqual(meta.lineage.map((l) => l.modelId), [plain.modelId, onTop.modelId]);
    const sample = (maxEpsilon: number | 'unlimited') =>
      client.workflow.execute('sample', { taskQueue, workflowId: uniqueName('sample'), args: [signedBy(researcher, 'sample', { analyst: researcher.id, modelId: onTop.modelId, prompts: [PLANTED_SECRET.slice(0, 15)], maxEpsilon, maxNewTokens: 4 })] });
    assert.equal((await workflowFailure(sample(10))).type, 'ReleaseRefused');
  }, { env });
});
