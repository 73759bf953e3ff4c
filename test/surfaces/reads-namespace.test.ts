// Read-only requests leave the jobs' list alone, on the real servers: the catalog, balance and
// audit reads of a client (and of `veil jobs ui-filter`) run in the reads namespace, served by the
// same workers, checked as strictly as before, and opened by the codec server for their signer;
// the jobs' namespace lists none of them. The reads namespace runs the read workflows only.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { VeilClient } from '../../clients/sdk/client.ts';
import { remoteCodecClient } from '../../clients/sdk/remote-codec.ts';
import { readsClient, sendReadsTo } from '../../clients/sdk/catalog.ts';
import { pseudonymOf } from '../../activities/jobs/index.ts';
import { serviceSecret } from '../../infra/access/index.ts';
import { config, GPU_TASK_QUEUE, TASK_QUEUE, type VeilConfig } from '../../infra/config.ts';
import { startCodecServer } from '../../infra/codec/serve.ts';
import * as readWorkflows from '../../workers/read-workflows.ts';
import { createQueueWorker } from '../../workers/worker.ts';
import { describeRun, jsonOf, runVeil } from '../cli/harness.ts';
import { workflowFailure } from '../helpers/failures.ts';
import { uniqueName } from '../helpers/names.ts';
import { newAnalyst, newOwner, ownerLedger, type TestPrincipal } from '../helpers/principals.ts';
import { testStore } from '../helpers/storage.ts';
import { connectTestEnvironment, testDataConverter, withWorker, type WorkerContext } from '../helpers/temporal.ts';
import { generatePatientNotes } from '../../clients/demo/patient-notes.ts';
import { grantBudget } from '../../clients/sdk/budget.ts';
import { addDataset } from '../../clients/sdk/datasets.ts';

let env: TestWorkflowEnvironment;
let owner: TestPrincipal;
const cfg = config();
const dataset = uniqueName('reads-notes');

before(async () => {
  env = await connectTestEnvironment();
  owner = await newOwner('reads-owner');
  const dir = await mkdtemp(join(tmpdir(), 'veil-reads-'));
  const file = join(dir, 'notes.jsonl');
  await writeFile(file, generatePatientNotes({ rows: 40, secretCopies: 1, seed: 'reads-test' }).map((r) => JSON.stringify(r)).join('\n') + '\n');
  await withWorker(async ({ client, taskQueue }) => addDataset(client, taskQueue, dataset, file, { token: owner.token }), { env, gpu: false });
});

after(async () => {
  await env?.teardown();
});

/** withWorker, plus the workers `veil worker` runs in the reads namespace on the same queues. */
async function withReadsWorkers<T>(fn: (ctx: WorkerContext) => Promise<T>): Promise<T> {
  return withWorker(async (ctx) => {
    const reads = (role: typeof TASK_QUEUE | typeof GPU_TASK_QUEUE, taskQueue: string): Promise<Worker> =>
      createQueueWorker(env.nativeConnection, role, cfg, testDataConverter(), { namespace: 'reads', taskQueue });
    const light = await reads(TASK_QUEUE, ctx.taskQueue);
    const gpu = await reads(GPU_TASK_QUEUE, ctx.gpuTaskQueue);
    return light.runUntil(gpu.runUntil(() => fn(ctx)));
  }, { env, gpu: false });
}

/** How many workflows of `type` the namespace lists on `taskQueue`. */
async function listed(client: Client, namespace: string, type: string, taskQueue: string): Promise<number> {
  const { executions } = await client.workflowService.listWorkflowExecutions({ namespace, query: `WorkflowType = '${type}' AND TaskQueue = '${taskQueue}'`, pageSize: 100 });
  return executions?.length ?? 0;
}

/** Visibility is eventually consistent: waits until `count()` reaches `expected` (or returns its last value). */
async function settled(count: () => Promise<number>, expected: number): Promise<number> {
  let n = await count();
  for (let i = 0; i < 40 && n !== expected; i++) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    n = await count();
  }
  return n;
}

test('the reads namespace runs the read-only workflows and nothing that spends, writes or trains', () => {
  assert.deepEqual(Object.keys(readWorkflows).sort(), ['catalog', 'jobsUiFilter', 'readBudgetBalance', 'readDatasetSpend', 'showAudit']);
});

test('catalog, preview and balance reads run in the reads namespace: the jobs\' list shows none of them, the codec server opens them for their signer', async () => {
  await withReadsWorkers(async ({ client, taskQueue }) => {
    const alice = await newAnalyst('reads-alice');
    await grantBudget(client, { dataset, analyst: alice.id, epsilon: 3, delta: 1e-3 }, ownerLedger(owner, taskQueue));
    const codec = await startCodecServer({ port: 0 });
    try {
      // Alice's own client, as VeilClient.connect makes it: no keys, payloads opened by the codec server.
      const codecCfg: VeilConfig = { ...cfg, VEIL_CODEC_URL: codec.url };
      const remote = sendReadsTo(await remoteCodecClient(codecCfg, alice.token), cfg.VEIL_READS_NAMESPACE);
      const veil = await VeilClient.connect({ temporal: remote, taskQueue, token: alice.token });
      try {
        const list = await veil.listDatasets();
        assert.ok(list.some((d) => d.name === dataset), 'the list was read');
        const preview = await veil.dataset(dataset).preview();
        assert.ok(preview.rows.length > 0, 'the synthetic preview was read');
        assert.equal((await veil.budget({ dataset })).granted.epsilon, 3);
      } finally {
        await veil.close();
        await remote.connection.close();
      }
    } finally {
      await codec.close();
    }
    assert.equal(await listed(client, cfg.TEMPORAL_NAMESPACE, 'catalog', taskQueue), 0, 'no catalog read in the jobs\' namespace');
    assert.equal(await listed(client, cfg.TEMPORAL_NAMESPACE, 'readBudgetBalance', taskQueue), 0, 'no balance read in the jobs\' namespace');
    assert.ok((await settled(() => listed(client, cfg.VEIL_READS_NAMESPACE, 'catalog', taskQueue), 2)) >= 2, 'the list and the preview ran in the reads namespace');
    assert.equal(await settled(() => listed(client, cfg.VEIL_READS_NAMESPACE, 'readBudgetBalance', taskQueue), 1), 1);
  });
});

test('reads are checked as strictly in the reads namespace: an unsigned or forged catalog read is refused', async () => {
  await withReadsWorkers(async ({ client, taskQueue }) => {
    const reads = readsClient(client, cfg.VEIL_READS_NAMESPACE);
    const unsigned = await workflowFailure(reads.workflow.execute('catalog', { taskQueue, workflowId: uniqueName('cat'), args: [{ query: { kind: 'list' } }] }));
    assert.equal(unsigned.type, 'Unauthenticated');
    const mallory = await newAnalyst('reads-mallory');
    const forged = { query: { kind: 'list' }, auth: { principal: mallory.id, signature: 'A'.repeat(43) } };
    assert.equal((await workflowFailure(reads.workflow.execute('catalog', { taskQueue, workflowId: uniqueName('cat'), args: [forged] }))).type, 'Unauthenticated');
  });
});

test('veil jobs ui-filter prints the caller\'s own pseudonym filter; a dataset\'s only for its owner', async () => {
  await withReadsWorkers(async ({ taskQueue }) => {
    const bob = await newAnalyst('reads-bob');
    const codec = await startCodecServer({ port: 0 });
    try {
      const veil = (who: TestPrincipal, args: string[]) => runVeil(['jobs', 'ui-filter', ...args], { taskQueue, readsNamespace: true, env: { VEIL_TOKEN: who.token, VEIL_CODEC_URL: codec.url } });
      const secret = await serviceSecret(await testStore());
      const own = await veil(bob, ['--json']);
      assert.equal(own.code, 0, describeRun(own));
      const answer = jsonOf<{ principal: string; analyst: string; query: string }>(own);
      assert.equal(answer.principal, bob.id);
      assert.equal(answer.query, `VeilAnalyst="${pseudonymOf(secret, 'analyst', bob.id)}"`);
      assert.match(answer.analyst, /^[0-9a-f]{16}$/);
      assert.equal(answer.query.includes(bob.id), false, 'the filter holds no name');
      const human = await veil(bob, []);
      assert.equal(human.stdout.split('\n')[0], answer.query, describeRun(human));
      const refused = await veil(bob, ['--dataset', dataset]);
      assert.equal(refused.code, 4, describeRun(refused));
      assert.match(refused.stderr, /does not own dataset/);
      const owners = await veil(owner, ['--dataset', dataset, '--json']);
      assert.equal(owners.code, 0, describeRun(owners));
      assert.equal(jsonOf<{ query: string }>(owners).query, `VeilDataset="${pseudonymOf(secret, 'dataset', dataset)}"`);
    } finally {
      await codec.close();
    }
  });
});
