// The job commands end to end on the real servers: `veil finetune`, `veil sample` and
// `veil jobs list|show|cancel` run as child processes on this test's task queue, served by
// in-process workers. A tiny GPT-2 (maxSeqLen 24) on 80 generated notes trains in seconds.
import { after, before, test } from 'node:test';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { grantBudget } from '../../clients/sdk/budget.ts';
import { ledgerBalance } from '../helpers/ledger.ts';
import { cancelJob, listJobs, showJob, startFineTune, type JobDetails, type JobSummary } from '../../clients/sdk/jobs/index.ts';
import type { ArtifactStore } from '../../infra/storage/index.ts';
import type { FineTuneInput, FineTuneResult } from '../../contracts/fine-tune.ts';
import type { SampleResult } from '../../contracts/sample.ts';
import { uniqueName } from '../helpers/names.ts';
import { newAnalyst, newOwner, ownerLedger, type TestPrincipal } from '../helpers/principals.ts';
import { testStore } from '../helpers/storage.ts';
import { connectTestEnvironment, withWorker } from '../helpers/temporal.ts';
import { VEIL_EPSILON, VEIL_STATUS } from '../../workflows/fine-tune/search-attributes.ts';
import { addNotesDataset, describeRun, eventually, jsonOf, runVeil } from './harness.ts';

let env: TestWorkflowEnvironment;
let store: ArtifactStore;
const dataset = uniqueName('cli-notes');

before(async () => {
  env = await connectTestEnvironment();
  store = await testStore();
});

after(async () => {
  await env?.teardown();
});

const trainingFlags = (analyst: string, extra: string[] = []): string[] => [
  '--dataset', dataset, '--analyst', analyst, '--text-column', 'note', '--model', 'tiny', '--seed', 'cli-test', '--max-seq-len', '24',
  '--target-epsilon', '8', '--delta', '1e-5', '--batch-size', '12', '--epochs', '0.5', '--lr', '1e-3', '--checkpoint-every', '2', '--test-fraction', '0.1', ...extra,
];

test('finetune, sample and jobs commands on a tiny model', async (t) => {
  await withWorker(async ({ client, taskQueue }) => {
    const owner = await newOwner('cli-owner');
    await addNotesDataset(client, store, taskQueue, dataset, owner);
    const aliceP = await newAnalyst('alice');
    const alice = aliceP.id;
    // Commands run as alice (VEIL_TOKEN) unless a test says otherwise.
    let bobP: TestPrincipal | undefined;
    const veil = (args: string[], who: TestPrincipal = aliceP) => runVeil(args, { taskQueue, env: { VEIL_TOKEN: who.token } });
    await grantBudget(client, { dataset, analyst: alice, epsilon: 10, delta: 5e-3 }, ownerLedger(owner, taskQueue));
    let trained: FineTuneResult | undefined;

    await t.test('veil finetune --json trains, evaluates with DP and prints the result as one JSON line', async () => {
      const run = await veil(['finetune', ...trainingFlags(alice), '--job-id', uniqueName('ft'), '--json']);
      assert.equal(run.code, 0, describeRun(run));
      assert.equal(run.stdout.trim().split('\n').length, 1, 'stdout holds the result line only');
      const result = jsonOf<FineTuneResult>(run);
      assert.equal(result.status, 'completed', result.message);
      assert.match(result.message, /^Differentially-private evaluation \(epsilon=\d+\.\d\d\)/);
      assert.ok(typeof result.epsilon === 'number' && result.epsilon > 0 && result.epsilon <= 8 + 1e-9);
      assert.match(run.stderr, new RegExp(`workflows/finetune-${result.jobId}`), 'the Temporal UI link goes to stderr with --json');
      const b = await ledgerBalance({ dataset, analyst: alice });
      assert.ok(Math.abs(b.committed.epsilon - result.epsilon) < 1e-9, 'the ledger charged what the CLI reports');
      trained = result;
    });

    await t.test('veil finetune without --json prints the evaluation line and the model id', async () => {
      // A budget that cannot cover ε=8: exit code 3 and the refusal, nothing trained.
      bobP = await newAnalyst('bob');
      const bob = bobP.id;
      await grantBudget(client, { dataset, analyst: bob, epsilon: 1, delta: 5e-3 }, ownerLedger(owner, taskQueue));
      const run = await veil(['finetune', ...trainingFlags(bob)], bobP);
      assert.equal(run.code, 3, describeRun(run));
      assert.match(run.stdout, /started fine-tune [0-9a-f]{8} \(workflow finetune-[0-9a-f]{8}\)\n {2}http:\/\/127\.0\.0\.1:\d+\/namespaces\/[^/]+\/workflows\/finetune-/);
      assert.match(run.stdout, /budget exhausted: .*only ε=1 remains/);
      // Temporal shows the refusal as what it is: the workflow failed, typed BudgetExhausted.
      const workflowId = /\(workflow (finetune-[0-9a-f]{8})\)/.exec(run.stdout)![1];
      const d = await client.workflow.getHandle(workflowId).describe();
      assert.equal(d.status.name, 'FAILED');
      assert.equal(d.typedSearchAttributes.get(VEIL_STATUS), 'budget-exhausted');
    });

    await t.test('veil sample prints samples with the model ε and δ, and refuses above the accepted ε', async () => {
      assert.ok(trained, 'needs the fine-tune of the first subtest');
      const ok = await veil(['sample', '--model', trained.modelId, '--analyst', alice, '--max-epsilon', '10', '--prompt', 'François Dupont suffers', '--unconditional', '1', '--max-new-tokens', '6', '--seed', 's', '--json']);
      assert.equal(ok.code, 0, describeRun(ok));
      const r = jsonOf<SampleResult>(ok);
      assert.equal(r.samples.length, 2);
      assert.ok(r.samples[0].text.startsWith('François Dupont suffers'));
      assert.equal(r.epsilon, trained.epsilon);

      const refused = await veil(['sample', '--model', trained.modelId, '--analyst', alice, '--max-epsilon', '0.5', '--unconditional', '1']);
      assert.equal(refused.code, 3, describeRun(refused));
      assert.match(refused.stderr, /refused: model .* spent ε=\d+\.\d+, above the accepted ε=0\.5/);
    });

    await t.test('veil jobs list and show: status, input summary without data, result', async () => {
      assert.ok(trained);
      const jobId = trained.jobId;
      const listed = await eventually(async () => {
        const list = jsonOf<JobSummary[]>(await veil(['jobs', 'list', '--json']));
        return list.some((j) => j.kind === 'sample') && list.some((j) => j.workflowId === `finetune-${jobId}`) ? list : undefined;
      }, 'the jobs in the visibility list');
      const ft = listed.find((j) => j.workflowId === `finetune-${jobId}`)!;
      assert.equal(ft.status, 'completed');
      assert.equal(ft.resultStatus, 'completed');
      // Another analyst's job is not in alice's list (its payloads stay sealed for her); bob sees his own.
      assert.ok(!listed.some((j) => j.resultStatus === 'budget-exhausted'), "bob's fine-tune is not alice's to see");
      const bobs = jsonOf<JobSummary[]>(await veil(['jobs', 'list', '--json'], bobP!));
      assert.ok(bobs.some((j) => j.resultStatus === 'budget-exhausted'), "bob's fine-tune is listed for him as budget-exhausted");
      assert.ok(listed.every((j) => j.kind === 'fineTune' || j.kind === 'sample'), 'the ledger and ingest workflows are not jobs');

      const show = await veil(['jobs', 'show', jobId, '--json']);
      assert.equal(show.code, 0, describeRun(show));
      const d = jsonOf<JobDetails>(show);
      assert.equal(d.workflowId, `finetune-${jobId}`);
      assert.deepEqual(
        { analyst: d.input.analyst, dataset: d.input.dataset, textColumn: d.input.textColumn, batchSize: (d.input.training as { batchSize: number }).batchSize },
        { analyst: alice, dataset, textColumn: 'note', batchSize: 12 },
      );
      assert.ok(d.outcome?.status === 'completed' && (d.outcome.result as FineTuneResult).modelId === trained.modelId);
      assert.doesNotMatch(show.stdout, /"rows"|Dupont/, 'no rows in what jobs show prints');

      const human = await veil(['jobs', 'show', `finetune-${jobId}`]);
      assert.match(human.stdout, new RegExp(`finetune job finetune-${jobId}: completed`));
      assert.match(human.stdout, /result: Differentially-private evaluation/);
      await assert.rejects(showJob(client, 'no-such-job'), (err: Error & { exitCode?: number }) => err.exitCode === 2 && /no fine-tune or sample job "no-such-job"/.test(err.message));
    });

    await t.test('veil audit show: the owner gets the report, the analyst the analyst\'s summary, anyone else a refusal; veil datasets canaries add', async () => {
      assert.ok(trained);
      const dir = await mkdtemp(join(tmpdir(), 'veil-audit-cli-'));
      const report = join(dir, 'audit.html');
      const byOwner = await veil(['audit', 'show', trained.modelId, '--out', report, '--json'], owner);
      assert.equal(byOwner.code, 0, describeRun(byOwner));
      assert.equal(jsonOf<{ audience: string }>(byOwner).audience, 'data-owner');
      assert.match(await readFile(report, 'utf8'), /<html/i);
      const byAnalyst = await veil(['audit', 'show', trained.modelId, '--json']);
      assert.equal(byAnalyst.code, 0, describeRun(byAnalyst));
      assert.equal(jsonOf<{ audience: string }>(byAnalyst).audience, 'analyst');
      const stranger = await newAnalyst('stranger');
      const refused = await veil(['audit', 'show', trained.modelId], stranger);
      assert.notEqual(refused.code, 0, describeRun(refused));
      const file = join(dir, 'canaries.jsonl');
      await writeFile(file, JSON.stringify({ prompt: 'Zoé Marchand is', secret: 'Zoé Marchand is allergic to penicillin and latex' }) + '\n');
      const added = await veil(['datasets', 'canaries', 'add', dataset, '--file', file, '--json'], owner);
      assert.equal(added.code, 0, describeRun(added));
      assert.equal(jsonOf<{ added: number }>(added).added, 1);
      assert.doesNotMatch(added.stdout + added.stderr, /penicillin/);
    });

    await t.test('veil jobs cancel stops a training run within a step, keeps its checkpoint and charges what it spent', async () => {
      const carolP = await newAnalyst('carol');
      const carol = carolP.id;
      await grantBudget(client, { dataset, analyst: carol, epsilon: 100, delta: 5e-3 }, ownerLedger(owner, taskQueue));
      const long: FineTuneInput = {
        analyst: carol,
        dataset: { name: dataset },
        textColumn: 'note',
        model: { base: 'tiny', seed: 'cli-test', maxSeqLen: 24 },
        training: { targetEpsilon: 50, delta: 1e-5, batchSize: 12, epochs: 20, lr: 1e-3, checkpointEvery: 2 },
        // Heartbeats reach the server every 0.8 × this: progress and the cancellation travel on them.
        trainHeartbeatTimeoutSeconds: 5,
      };
      const job = await startFineTune(client, long, { taskQueue, token: carolP.token });
      // A failed assertion must not leave a fine-tune waiting forever for this test's workers.
      t.after(() => client.workflow.getHandle(job.workflowId).terminate('test cleanup').catch(() => undefined));
      // Training has made progress: the running job shows it in `jobs list` and `jobs show`.
      const running = await eventually(async () => {
        const j = (await listJobs(client, { taskQueue })).find((x) => x.workflowId === job.workflowId);
        return j?.activity?.progress && j.activity.progress.step > 0 ? j : undefined;
      }, 'training progress in the job list', 60_000);
      assert.equal(running.status, 'running');
      assert.equal(running.activity?.activity, 'train');
      const totalSteps = running.activity!.progress!.totalSteps;
      assert.ok(totalSteps >= 100, `totalSteps=${totalSteps}`);
      const shown = await veil(['jobs', 'show', job.jobId], carolP);
      assert.match(shown.stdout, /now: training: step \d+\/\d+, (loss \d+\.\d+, )?ε \d+\.\d\d/, describeRun(shown));

      const requestedAt = Date.now();
      const cancel = await veil(['jobs', 'cancel', job.jobId, '--json'], carolP);
      assert.equal(cancel.code, 0, describeRun(cancel));
      const c = jsonOf<{ wasRunning: boolean; outcome: { status: string; result: FineTuneResult } }>(cancel);
      assert.ok(c.wasRunning);
      // Temporal shows it cancelled; the settled result still comes back (the jobResult query).
      assert.equal(c.outcome.status, 'cancelled');
      const result = c.outcome.result;
      assert.equal(result.status, 'cancelled', result.message);
      assert.match(result.message, /^cancelled after step \d+; its checkpoint is kept and ε=\d+\.\d\d was charged/);
      const d = await client.workflow.getHandle(job.workflowId).describe();
      assert.equal(d.status.name, 'CANCELLED');
      assert.equal(d.typedSearchAttributes.get(VEIL_STATUS), 'cancelled');
      assert.equal(d.typedSearchAttributes.get(VEIL_EPSILON), result.epsilon);
      const shownEnd = await veil(['jobs', 'show', job.jobId], carolP);
      assert.match(shownEnd.stdout, /: cancelled\n[\s\S]*result: cancelled after step \d+; its checkpoint is kept and ε=\d+\.\d\d was charged/, describeRun(shownEnd));
      assert.ok(result.steps > 0 && result.steps < totalSteps);
      assert.ok(typeof result.epsilon === 'number' && result.epsilon > 0);
      const b = await ledgerBalance({ dataset, analyst: carol });
      assert.ok(Math.abs(b.committed.epsilon - result.epsilon) < 1e-9, 'the ledger charged the ε the cancelled run spent');
      assert.equal(b.reserved.epsilon, 0);
      t.diagnostic(`cancelled after step ${result.steps}, ${Date.now() - requestedAt} ms after the request (CLI start included)`);

      const again = await cancelJob(client, job.jobId);
      assert.equal(again.wasRunning, false);
      assert.deepEqual(again.outcome, c.outcome, 'cancelling an ended job reports how it ended');
    });
  }, { env });
});
