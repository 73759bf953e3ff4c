// Scheduled fine-tunes through `veil schedule …` on the real servers: create (paused), list,
// unpause, trigger, pause with a note, delete. A triggered run whose analyst has no budget ends
// with the fineTune result 'budget-exhausted' (no training, no GPU worker needed) and leaves the
// schedule healthy: still active, no failed run. Its job id is derived from the run's workflow id,
// whose scheduled time holds ':'.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { ledgerBalance } from '../helpers/ledger.ts';
import type { FineTuneScheduleInfo } from '../../clients/sdk/schedules.ts';
import { deleteSchedule } from '../../clients/sdk/schedules.ts';
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
    const veil = (args: string[]) => runVeil(args, { taskQueue, env: { VEIL_TOKEN: analystP.token } });
    const name = uniqueName('nightly');
    const analyst = analystP.id;
    t.after(() => deleteSchedule(client, name).catch(() => undefined));

    await t.test('create (paused) and list', async () => {
      const created = await veil(['schedule', 'create', name, '--every', '1d', '--paused', '--note', 'until the data owner grants a budget', ...fineTuneFlags(analyst), '--json']);
      assert.equal(created.code, 0, describeRun(created));
      const info = jsonOf<FineTuneScheduleInfo>(created);
      assert.deepEqual([info.name, info.paused, info.note, info.every, info.recentRuns.length], [name, true, 'until the data owner grants a budget', '1d', 0]);

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

    await t.test('unpause, then a triggered run ends budget-exhausted and the schedule stays healthy', async () => {
      const unpaused = await veil(['schedule', 'unpause', name]);
      assert.equal(unpaused.code, 0, describeRun(unpaused));
      const triggered = await veil(['schedule', 'trigger', name, '--json']);
      assert.equal(triggered.code, 0, describeRun(triggered));
      const { workflowId } = jsonOf<{ workflowId: string }>(triggered);
      // Temporal appends the scheduled time (RFC 3339, with ':') to the schedule's workflow id.
      assert.match(workflowId, new RegExp(`^finetune-${name}-\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ$`));

      const result: FineTuneResult = await client.workflow.getHandle(workflowId).result();
      assert.equal(result.status, 'budget-exhausted', result.message);
      assert.equal(result.jobId, workflowId.replace(/:/g, '-'), 'the job id is the workflow id with its ":" replaced');
      const b = await ledgerBalance({ dataset, analyst });
      assert.equal(b.committed.epsilon + b.reserved.epsilon, 0);

      const shown = await veil(['schedule', 'show', name, '--json']);
      assert.equal(shown.code, 0, describeRun(shown));
      const info = jsonOf<FineTuneScheduleInfo>(shown);
      assert.equal(info.paused, false, 'a budget-exhausted run does not pause the schedule');
      assert.equal(info.failedRuns, 0);
      assert.deepEqual(
        info.recentRuns.map((r) => [r.workflowId, r.status, r.resultStatus]),
        [[workflowId, 'completed', 'budget-exhausted']],
      );
      assert.ok(new Date(info.nextRuns[0]).getTime() > Date.now(), 'the next run is still planned');

      const human = await veil(['schedule', 'list']);
      assert.match(human.stdout, new RegExp(`${name}\\s+active\\s+every 1d\\s+\\S+\\s+${workflowId}: budget-exhausted`), describeRun(human));
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
