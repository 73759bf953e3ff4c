// Scheduled fine-tunes through `veil schedule …` on the real servers: create (paused), list,
// unpause, trigger, pause with a note, delete. The schedule's id in Temporal (and its UI) is its
// CLI name. A triggered run whose analyst has no budget passes the schedule's signature check (the
// workers find the schedule by that id), then ends FAILED with the fineTune result
// 'budget-exhausted' (no training, no GPU worker needed), a failed run for the schedule's
// pauseOnFailure. Its job id is derived from the run's workflow id, whose scheduled time holds ':'.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { ledgerBalance } from '../helpers/ledger.ts';
import type { FineTuneScheduleInfo } from '../../clients/sdk/schedules.ts';
import { deleteSchedule } from '../../clients/sdk/schedules.ts';
import { outcomeOf } from '../../clients/sdk/jobs/index.ts';
import { workflowFailure } from '../helpers/failures.ts';
import { startCodecServer } from '../../infra/codec/serve.ts';
import type { FineTuneResult } from '../../contracts/fine-tune.ts';
import { uniqueName } from '../helpers/names.ts';
import { testStore } from '../helpers/storage.ts';
import { connectTestEnvironment, withWorker } from '../helpers/temporal.ts';
import { newAnalyst, newOwner } from '../helpers/principals.ts';
import { addNotesDataset, describeRun, eventually, jsonOf, runVeil } from '../cli/harness.ts';

let env: TestWorkflowEnvironment;
const dataset = uniqueName('sched-notes');

before(async () => {
  env = await connectTestEnvironment();
});

after(async () => {
  await env?.teardown();
});

const fineTuneFlags = (analyst: string): string[] => [
  '--dataset', dataset, '--analyst', analyst, '--text-column', 'note', '--model', 'tiny', '--max-seq-len', '24',
  '--target-epsilon', '4', '--batch-size', '12', '--epochs', '0.5',
];

test('a fine-tune schedule: create, list, unpause, trigger a run the budget cannot cover, pause, delete', async (t) => {
  await withWorker(async ({ client, taskQueue }) => {
    const owner = await newOwner('sched-owner');
    await addNotesDataset(client, await testStore(), taskQueue, dataset, owner);
    const analystP = await newAnalyst('nobudget');
    // This checkout's codec server: it finds a schedule's sealed action by the schedule's name.
    const codec = await startCodecServer({ port: 0 });
    t.after(() => codec.close());
    const veil = (args: string[]) => runVeil(args, { taskQueue, env: { VEIL_TOKEN: analystP.token, VEIL_CODEC_URL: codec.url } });
    const name = uniqueName('nightly');
    const analyst = analystP.id;
    t.after(() => deleteSchedule(client, name).catch(() => undefined));

    await t.test('create (paused) and list', async () => {
      const created = await veil(['schedule', 'create', name, '--every', '1d', '--paused', '--note', 'until the data owner grants a budget', ...fineTuneFlags(analyst), '--json']);
      assert.equal(created.code, 0, describeRun(created));
      const info = jsonOf<FineTuneScheduleInfo>(created);
      assert.deepEqual([info.name, info.paused, info.note, info.every, info.recentRuns.length], [name, true, 'until the data owner grants a budget', '1d', 0]);
      // The id the Temporal UI shows is the name the CLI takes.
      assert.equal(info.scheduleId, name);
      assert.equal((await client.schedule.getHandle(name).describe()).scheduleId, name);

      const duplicate = await veil(['schedule', 'create', name, '--every', '12h', ...fineTuneFlags(analyst)]);
      assert.equal(duplicate.code, 2, describeRun(duplicate));
      assert.match(duplicate.stderr, /NAME: a schedule named ".*" already exists/);

      const listed = await eventually(async () => {
        const list = jsonOf<FineTuneScheduleInfo[]>(await veil(['schedule', 'list', '--json']));
        return list.find((s) => s.name === name);
      }, 'the schedule in schedule list');
      assert.equal(listed.paused, true);
      assert.equal(listed.every, '1d');
    });

    await t.test('a bad cron expression is refused by the server and named', async () => {
      const bad = await veil(['schedule', 'create', uniqueName('badcron'), '--cron', 'every tuesday', ...fineTuneFlags(analyst)]);
      assert.equal(bad.code, 2, describeRun(bad));
      assert.match(bad.stderr, /--cron:/);
    });

    await t.test('unpause, then a triggered run ends FAILED (budget-exhausted) with its result', async () => {
      const unpaused = await veil(['schedule', 'unpause', name]);
      assert.equal(unpaused.code, 0, describeRun(unpaused));
      const triggered = await veil(['schedule', 'trigger', name, '--json']);
      assert.equal(triggered.code, 0, describeRun(triggered));
      const { workflowId } = jsonOf<{ workflowId: string }>(triggered);
      // Temporal appends the scheduled time (RFC 3339, with ':') to the schedule's workflow id.
      assert.match(workflowId, new RegExp(`^finetune-${name}-\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ$`));

      // The refusal is the budget's, not the signature's: the workers found the schedule by its id.
      const refusal = await workflowFailure(client.workflow.getHandle(workflowId).result());
      assert.equal(refusal.type, 'BudgetExhausted', refusal.message);
      const outcome = await outcomeOf<FineTuneResult>(client, workflowId);
      assert.ok(outcome.status === 'failed' && outcome.result, JSON.stringify(outcome));
      assert.equal(outcome.result.status, 'budget-exhausted');
      assert.equal(outcome.result.jobId, workflowId.replace(/:/g, '-'), 'the job id is the workflow id with its ":" replaced');
      const b = await ledgerBalance({ dataset, analyst });
      assert.equal(b.committed.epsilon + b.reserved.epsilon, 0);

      const info = await eventually(async () => {
        const shown = await veil(['schedule', 'show', name, '--json']);
        assert.equal(shown.code, 0, describeRun(shown));
        const i = jsonOf<FineTuneScheduleInfo>(shown);
        return i.recentRuns.length > 0 ? i : undefined;
      }, 'the run in the schedule\'s recent runs');
      assert.equal(info.failedRuns, 1);
      assert.deepEqual(
        info.recentRuns.map((r) => [r.workflowId, r.status, r.resultStatus]),
        [[workflowId, 'failed', 'budget-exhausted']],
      );

      const human = await veil(['schedule', 'list']);
      assert.match(human.stdout, new RegExp(`${name}\\s+(active|paused)\\s+every 1d\\s+\\S+\\s+${workflowId}: budget-exhausted`), describeRun(human));
    });

    await t.test('pause with a note, delete', async () => {
      const paused = await veil(['schedule', 'pause', name, '--note', 'budget review']);
      assert.equal(paused.code, 0, describeRun(paused));
      const info = jsonOf<FineTuneScheduleInfo>(await veil(['schedule', 'show', name, '--json']));
      assert.deepEqual([info.paused, info.note], [true, 'budget review']);

      const deleted = await veil(['schedule', 'delete', name]);
      assert.equal(deleted.code, 0, describeRun(deleted));
      const gone = await veil(['schedule', 'show', name]);
      assert.equal(gone.code, 2, describeRun(gone));
      assert.match(gone.stderr, /no schedule named/);
    });
  }, { env, gpu: false });
});
