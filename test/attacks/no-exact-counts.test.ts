// Nothing private leaves a DP job without DP: plant a known number of rows that the analyst's own
// function rejects, run a DP fine-tune, and look for that number (and the number of usable rows)
// in every heartbeat the job sent and in its result outside the DP data report. Heartbeats once
// carried {slots} at every 1,000th usable row, the evaluation {rows} and the audit {done, total}.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { generatePatientNotes } from '../../clients/demo/patient-notes.ts';
import { grantBudget } from '../../clients/sdk/budget.ts';
import { addDataset } from '../../clients/sdk/datasets.ts';
import { currentActivity } from '../../clients/sdk/jobs/index.ts';
import type { FineTuneInput, FineTuneResult } from '../../contracts/fine-tune.ts';
import { trace } from '../../engine/sandbox/index.ts';
import { readPrivateCounts } from '../../activities/training/prepare-data.ts';
import { uniqueName } from '../helpers/names.ts';
import { newAnalyst, newOwner, ownerLedger, signedBy } from '../helpers/principals.ts';
import { connectTestEnvironment, withWorker } from '../helpers/temporal.ts';

const ROWS = 90;
const REJECTED = 17;
let env: TestWorkflowEnvironment;

before(async () => {
  env = await connectTestEnvironment();
});
after(async () => {
  await env?.teardown();
});

/** Every number anywhere in a value (keys skipped where `skip` says so). */
function numbersIn(value: unknown, skip: (key: string) => boolean = () => false): number[] {
  if (typeof value === 'number') return [value];
  if (Array.isArray(value)) return value.flatMap((v) => numbersIn(v, skip));
  if (value !== null && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => (skip(k) ? [] : numbersIn(v, skip)));
  return [];
}

test('a DP job leaks the number of rows its preprocessing rejected in no heartbeat and nowhere in its result but the DP report', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'veil-counts-'));
  const file = join(dir, 'notes.jsonl');
  const notes = generatePatientNotes({ rows: ROWS, secretCopies: 0, seed: 'counts' }).map((r, i) => (i % 5 === 2 && i < 5 * REJECTED ? { ...r, note: `${r.note} MARKER` } : r));
  assert.equal(notes.filter((r) => r.note.includes('MARKER')).length, REJECTED);
  await writeFile(file, notes.map((r) => JSON.stringify(r)).join('\n') + '\n');
  const owner = await newOwner('counts-owner');
  const analyst = await newAnalyst('counts-analyst');
  const dataset = uniqueName('counts');
  await withWorker(async ({ client, taskQueue }) => {
    await addDataset(client, taskQueue, dataset, file, { token: owner.token });
    await grantBudget(client, { dataset, analyst: analyst.id, epsilon: 10, delta: 1e-3 }, ownerLedger(owner, taskQueue));
    const input: FineTuneInput = {
      analyst: analyst.id,
      dataset: { name: dataset },
      textColumn: 'note',
      preprocessing: [{ kind: 'map', column: 'note', fn: trace((s: string) => { if (s.includes('MARKER')) throw new Error('no'); return s; }, { name: 'dropMarked' }) }],
      split: { kind: 'ratio', testFraction: 0.2 },
      model: { base: 'tiny', seed: 'counts', maxSeqLen: 16 },
      training: { targetEpsilon: 8, delta: 1e-5, batchSize: 12, epochs: 0.5, lr: 1e-3, checkpointEvery: 2 },
    };
    const handle = await client.workflow.start('fineTune', { taskQueue, workflowId: uniqueName('ft'), args: [signedBy(analyst, 'fineTune', input)] });
    const heartbeats: unknown[] = [];
    const activities = new Set<string>();
    let done = false;
    const result = handle.result().finally(() => (done = true)) as Promise<FineTuneResult>;
    while (!done) {
      const a = await currentActivity(client, await handle.describe()).catch(() => null);
      if (a) {
        activities.add(a.activity);
        if (a.progress !== null || a.activity !== 'train') heartbeats.push({ activity: a.activity, details: a.progress });
      }
      await new Promise((r) => setTimeout(r, 150));
    }
    const r = await result;
    assert.equal(r.status, 'completed', r.message);
    const exact = await readPrivateCounts(r.jobId);
    const failures = exact.preprocessing.steps[0].failures;
    // The planted rows all fail; on a loaded machine a slot can also time out (counted, never leaked).
    assert.ok(failures && (failures.byKind.error ?? 0) + (failures.byKind.timeout ?? 0) >= REJECTED, JSON.stringify(failures));
    const secrets = [failures.count, ROWS - failures.count, failures.byKind.error ?? 0];
    // The train activity's progress is public (steps, ε); anything else it or another sends must not hold the counts.
    for (const hb of heartbeats) for (const n of numbersIn(hb, (k) => ['step', 'totalSteps', 'checkpointStep', 'epsilon', 'loss'].includes(k))) assert.ok(!secrets.includes(n), `heartbeat ${JSON.stringify(hb)}`);
    for (const n of numbersIn(r, (k) => k === 'dataReport')) assert.ok(!secrets.includes(n), `result field holds ${n}`);
    assert.ok(r.dataReport && r.dataReport.epsilon !== null, 'the counts come only as a DP release');
    assert.ok(activities.size >= 2, `watched ${[...activities].join(', ')}`);
  }, { env });
});
