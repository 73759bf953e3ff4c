// Histories already run replay with the current workflow code: the fine-tunes this server holds,
// those that ended before the job-end-states patch (Completed with their status in the result)
// and those after it (Canceled, Failed, with search-attribute upserts), replayed by Temporal's
// replayer with the workers' own bundle. A change to the fine-tune's commands that is not guarded
// by patched() fails here with a nondeterminism error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from '@temporalio/worker';
import { config } from '../../infra/config.ts';
import { JOB_END_STATES_PATCH } from '../../workflows/patches.ts';
import { workflowBundle } from '../../workers/worker.ts';
import { connectTestEnvironment, testDataConverter } from '../helpers/temporal.ts';

type HistoryEvent = { markerRecordedEventAttributes?: { markerName?: string | null; details?: Record<string, { payloads?: { data?: Uint8Array | null }[] | null }> | null } | null };

/** Whether the history holds the patch marker of `patchId` (core writes it as plain JSON, unsealed). */
function hasPatch(events: HistoryEvent[], patchId: string): boolean {
  return events.some((e) => {
    const marker = e.markerRecordedEventAttributes;
    if (marker?.markerName !== 'core_patch') return false;
    return Object.values(marker.details ?? {}).some((d) => (d.payloads ?? []).some((p) => p.data && Buffer.from(p.data).toString('utf8').includes(patchId)));
  });
}

/** How many closed fine-tunes of each kind (before and after the patch) to replay. */
const PER_KIND = 6;

test('closed fine-tunes replay with the current code, from before the job-end-states patch and after it', async (t) => {
  const env = await connectTestEnvironment();
  try {
    const client = env.client;
    const histories: { workflowId: string; history: Awaited<ReturnType<ReturnType<typeof client.workflow.getHandle>['fetchHistory']>> }[] = [];
    const counts = { before: 0, after: 0 };
    for await (const info of client.workflow.list({ query: `WorkflowType = 'fineTune' AND ExecutionStatus != 'Running'`, pageSize: 50 })) {
      if (counts.before >= PER_KIND && counts.after >= PER_KIND) break;
      const history = await client.workflow.getHandle(info.workflowId, info.runId).fetchHistory();
      // The patch's marker is in a run's history iff it ran the new code from its start.
      const patched = hasPatch((history.events ?? []) as HistoryEvent[], JOB_END_STATES_PATCH);
      const kind = patched ? 'after' : 'before';
      if (counts[kind] >= PER_KIND) continue;
      counts[kind]++;
      histories.push({ workflowId: info.workflowId, history });
    }
    t.diagnostic(`replaying ${counts.before} fine-tunes from before the patch and ${counts.after} after it`);
    if (counts.before === 0) t.diagnostic('this server holds no fine-tune from before the patch: only the new code path is replayed');
    assert.ok(histories.length > 0, `no closed fine-tune on ${config().TEMPORAL_NAMESPACE} to replay (run test/pipeline/fine-tune.test.ts first)`);
    const bundle = await workflowBundle();
    const failures: string[] = [];
    for await (const result of Worker.runReplayHistories({ workflowBundle: bundle, dataConverter: testDataConverter() }, histories)) {
      if (result.error) failures.push(`${result.workflowId}: ${result.error.message}`);
    }
    assert.deepEqual(failures, [], 'every history replays without a nondeterminism error');
  } finally {
    await env.teardown();
  }
});
