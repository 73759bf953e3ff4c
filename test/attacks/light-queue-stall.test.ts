// One request must not stall everyone: σ calibration for an extreme (but allowed) target used to
// run on the light worker's event loop for minutes, and every catalog read, authorization and
// budget write of every other principal timed out meanwhile. It now runs in a worker thread with
// a deadline.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { lightActivities } from '../../activities/index.ts';
import { OffThreadTimeout, runOffThread } from '../../activities/shared/off-thread.ts';
import { uniqueName } from '../helpers/names.ts';
import { newAnalyst, signedBy } from '../helpers/principals.ts';
import { connectTestEnvironment, withWorker } from '../helpers/temporal.ts';

let env: TestWorkflowEnvironment;
before(async () => {
  env = await connectTestEnvironment();
});
after(async () => {
  await env?.teardown();
});

test('a CPU-bound step is stopped at its deadline, and the event loop stays free meanwhile', async () => {
  const spin = new URL('../fixtures/off-thread/spin.ts', import.meta.url);
  assert.equal(await runOffThread(spin, 'spin', 10, 30_000), 'done');
  let ticks = 0;
  const timer = setInterval(() => ticks++, 50);
  const started = Date.now();
  await assert.rejects(runOffThread(spin, 'spin', null, 1500), OffThreadTimeout);
  clearInterval(timer);
  assert.ok(Date.now() - started < 5000, `stopped after ${Date.now() - started} ms`);
  assert.ok(ticks >= 15, `the event loop ran ${ticks} timers while the thread spun`);
});

test('the light queue answers catalog reads within a second while a heavy calibration runs', async () => {
  await withWorker(async ({ client, taskQueue }) => {
    const alice = await newAnalyst('alice');
    // A describe of a name nobody registered: an authorized catalog round trip whose cost does
    // not grow with the datasets the shared test server has accumulated (a list would).
    const read = () =>
      client.workflow
        .execute('catalog', { taskQueue, workflowId: uniqueName('cat'), args: [signedBy(alice, 'catalog', { query: { kind: 'describe', name: uniqueName('none') } })] })
        .catch((err: unknown) => assert.match(String((err as { cause?: { cause?: unknown } }).cause?.cause ?? err), /DatasetNotFound|no dataset/i));
    await read(); // the worker's first workflow task (bundle load, caches) is not what is measured
    // ε=100 over 10^6 steps at q=10^-4: seconds of accountant work (it ran minutes for ε=1e308).
    const heavy = lightActivities().planPrivacy({
      analyst: alice.id,
      privileged: false,
      trainRows: 10_000,
      training: { targetEpsilon: 100, batchSize: 1, epochs: 100, maxGradNorm: 1, lr: 1e-3, warmupSteps: 0, physicalBatchSize: 16, accountant: 'prv', checkpointEvery: 20 },
    });
    let settled = false;
    void heavy.finally(() => (settled = true)).catch(() => undefined);
    const latencies: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t = Date.now();
      await read();
      latencies.push(Date.now() - t);
    }
    assert.equal(settled, false, 'the calibration was still running during the reads');
    assert.ok(Math.max(...latencies) < 1000, `catalog reads took ${latencies.join(', ')} ms`);
    await heavy.catch(() => undefined);
  }, { env, gpu: false });
});
