// runComputeInWorker, the GPU activities' way off their event loop: the work runs in another
// thread, its progress becomes heartbeat details, an ApplicationFailure keeps its type and retry
// policy across the thread boundary, other errors keep their name and message.
import assert from 'node:assert/strict';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { test } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { runComputeInWorker } from '../../activities/shared/compute-worker.ts';

const WORK = new URL('./compute-work.ts', import.meta.url);

test('the work runs in another thread; its progress is heartbeated; this loop stays free', async () => {
  const env = new MockActivityEnvironment();
  const details: unknown[] = [];
  env.on('heartbeat', (d: unknown) => details.push(d));
  const monitor = monitorEventLoopDelay({ resolution: 10 });
  monitor.enable();
  const out = (await env.run(() => runComputeInWorker(WORK, 'phases', { blockMs: 1500 }, { phase: 'start' }))) as { threadId: number };
  monitor.disable();
  assert.notEqual(out.threadId, 0, 'not the main thread');
  assert.deepEqual(details[0], { phase: 'start' }, 'a heartbeat with the initial details at once');
  assert.ok(details.some((d) => (d as { phase?: string })?.phase === 'one'));
  assert.deepEqual(details.at(-1), { phase: 'two' });
  assert.ok(monitor.max / 1e6 < 250, `the loop was delayed by ${(monitor.max / 1e6).toFixed(0)} ms while the thread was busy 1.5 s`);
});

test('an ApplicationFailure keeps its type and nonRetryable; other errors their name and message', async () => {
  await assert.rejects(new MockActivityEnvironment().run(() => runComputeInWorker(WORK, 'refuse', { type: 'ModelNotFound' })), (err: unknown) => {
    assert.ok(err instanceof ApplicationFailure);
    assert.equal(err.type, 'ModelNotFound');
    assert.equal(err.nonRetryable, true);
    assert.equal(err.message, 'refused in the thread');
    return true;
  });
  await assert.rejects(new MockActivityEnvironment().run(() => runComputeInWorker(WORK, 'crash', {})), (err: unknown) => {
    assert.ok(!(err instanceof ApplicationFailure), 'a plain error stays retryable');
    assert.equal((err as Error).name, 'RangeError');
    assert.equal((err as Error).message, 'out of range in the thread');
    return true;
  });
  await assert.rejects(new MockActivityEnvironment().run(() => runComputeInWorker(WORK, 'missing', {})), /does not export a function missing/);
});
