// What the worker's log shows of a routine refusal, on the real servers: one INFO line naming the
// refusal, not Temporal's warning with the failure and its stack trace, for the refused activity
// and for the workflow it fails. Faults that are not refusals still reach the log unchanged.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import type { LogLevel, LogMetadata } from '@temporalio/common';
import { QuietRefusalsLogger } from '../../workers/quiet-refusals.ts';
import { workflowFailure } from '../helpers/failures.ts';
import { uniqueName } from '../helpers/names.ts';
import { withWorker } from '../helpers/temporal.ts';

interface Line {
  level: LogLevel;
  message: string;
  meta: LogMetadata;
}

/** Keeps every line; prints none (Temporal's DefaultLogger hands each entry to the callback). */
const lines: Line[] = [];
const capture = new DefaultLogger('TRACE', ({ level, message, meta }) => {
  lines.push({ level, message, meta: meta ?? {} });
});
// The worker's logger, as `veil worker` installs it (workers/worker.ts), before any worker exists.
Runtime.install({ logger: new QuietRefusalsLogger(capture) });

const hasStack = (meta: LogMetadata): boolean => JSON.stringify(meta, (_k, v: unknown) => (v instanceof Error ? { stack: v.stack } : v)).includes('    at ');

test('a refused request logs one line for its activity and one for its workflow, without a stack trace', async () => {
  await withWorker(async ({ client, taskQueue }) => {
    const workflowId = uniqueName('unsigned-catalog');
    const refusal = await workflowFailure(client.workflow.execute('catalog', { taskQueue, workflowId, args: [{ query: { kind: 'list' } }] }));
    assert.equal(refusal.type, 'Unauthenticated');
    // Workflow logs reach the Runtime logger through a sink, after the activation.
    for (let i = 0; i < 40 && !lines.some((l) => l.message.startsWith('workflow refused')); i++) await new Promise((resolve) => setTimeout(resolve, 100));
    const mine = lines.filter((l) => l.meta.workflowId === workflowId);
    const refusals = mine.filter((l) => / refused \(Unauthenticated\): the request is not signed/.test(l.message));
    assert.deepEqual(refusals.map((l) => [l.level, l.message.split(' ')[0]]), [['INFO', 'activity'], ['INFO', 'workflow']], JSON.stringify(mine.map((l) => l.message)));
    assert.ok(refusals.every((l) => !hasStack(l.meta) && l.meta.error === undefined), 'no failure object, no stack trace');
    assert.ok(!mine.some((l) => l.message === 'Activity failed' || l.message === 'Workflow failed'), 'Temporal\'s own failure warnings are replaced');
  }, { gpu: false });
});

test('a failure that is not a refusal is logged as Temporal logs it', () => {
  const error = new Error('the object store is unreachable');
  new QuietRefusalsLogger(capture).warn('Activity failed', { error, activityType: 'readCatalog' });
  const last = lines.at(-1)!;
  assert.deepEqual([last.level, last.message, last.meta.error], ['WARN', 'Activity failed', error]);
});
