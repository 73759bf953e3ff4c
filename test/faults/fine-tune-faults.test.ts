// Fault tests of the fineTune pipeline against the real Temporal and MinIO servers, with real
// `veil worker` processes polling this file's own queues: workers SIGKILLed mid-training, the
// Temporal server restarted mid-run, MinIO down while a checkpoint is written, a cancelled job.
// The servers are restored in `finally` blocks whatever happens: the next test files use them.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { CancelledFailure } from '@temporalio/common';
import { jobResultQuery } from '../../workflows/fine-tune/search-attributes.ts';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { TrainCancellation } from '../../contracts/fine-tune.ts';
import { grantBudget } from '../../clients/sdk/budget.ts';
import { ledgerBalance, ledgerReservation } from '../helpers/ledger.ts';
import { config } from '../../infra/config.ts';
import { startMinio, startTemporal, stopMinio, stopTemporal } from '../../infra/servers/index.ts';
import { checkpointPrefix, type ArtifactStore } from '../../infra/storage/index.ts';
import type { FineTuneResult } from '../../contracts/fine-tune.ts';
import { uniqueName } from '../helpers/names.ts';
import { newAnalyst, ownerLedger, signedBy, type TestPrincipal } from '../helpers/principals.ts';
import { testStore } from '../helpers/storage.ts';
import { connectTestEnvironment, withWorker } from '../helpers/temporal.ts';
import {
  activityAttempts,
  activityCompletedAt,
  addNotesDataset,
  checkpointAtLeast,
  checkpointKey,
  checkpointShardKeys,
  committedCheckpointSteps,
  FAULT_SHARD_BYTES,
  FAULT_CHECKPOINT_EVERY,
  faultSpec,
  modelWeightsSha256,
  openPayloads,
  pendingTrain,
  pinRunKey,
  pollers,
  unfinishedUploads,
  verifyCheckpoints,
  waitFor,
} from './harness.ts';
import { spawnWorker, type WorkerProcess } from './worker-process.ts';
import { KEPT_CHECKPOINTS, SHARD_BYTES_ENV } from '../../activities/training/checkpoints.ts';

// Every checkpoint of these runs is several shards (inherited by the worker processes too): the
// kill-and-resume test resumes from sharded checkpoints.
process.env[SHARD_BYTES_ENV] = String(FAULT_SHARD_BYTES);

/** How the train activity reports a checkpoint it could not store. */
const CHECKPOINT_UPLOAD_FAILED = /^checkpoint step-\d+ could not be written to S3/;

let env: TestWorkflowEnvironment;
let store: ArtifactStore;
let owner: TestPrincipal;
const dataset = uniqueName('faults-notes');
/** The queue this file's worker processes poll (and `<queue>-gpu`). */
const queue = uniqueName('faults');
/** Live worker processes on `queue`: two, so that one can die while the other takes over. */
let pool: WorkerProcess[] = [];
const t0 = Date.now();
const log = (what: string): void => console.log(`[${((Date.now() - t0) / 1000).toFixed(1)} s] ${what}`);

before(async () => {
  env = await connectTestEnvironment();
  store = await testStore();
  pool = [spawnWorker(queue), spawnWorker(queue)];
  owner = await addNotesDataset(env, store, dataset);
  await Promise.all(pool.map((w) => w.polling()));
  log('dataset added, two workers polling');
});

after(async () => {
  await Promise.all(pool.map((w) => w.stop()));
  await env?.teardown();
});

/** The pool's worker process that runs the job's train activity now (attempt ≥ `attempt`). */
async function trainingWorker(handle: WorkflowHandle, attempt: number): Promise<WorkerProcess> {
  const identity = await waitFor(`train attempt ${attempt} to start`, async () => {
    const train = await pendingTrain(handle);
    return train?.started && train.attempt >= attempt ? train.workerIdentity : undefined;
  }, 60_000);
  const worker = pool.find((w) => w.hasIdentity(identity));
  if (!worker) throw new Error(`train runs on ${identity}, not on one of this test's workers (pids ${pool.map((w) => w.workerPid()).join(', ')})`);
  return worker;
}

/** SIGKILLs a worker and starts its replacement (which polls a few seconds later). */
async function killAndReplace(worker: WorkerProcess): Promise<void> {
  await worker.kill();
  pool = [...pool.filter((w) => w !== worker), spawnWorker(queue)];
}

async function grant(analyst: string, taskQueue = queue): Promise<void> {
  await grantBudget(env.client, { dataset, analyst, epsilon: 20, delta: 5e-3 }, ownerLedger(owner, taskQueue));
}

/** The job charged exactly once, exactly `epsilon`: one reservation, committed at that amount. */
async function assertChargedOnce(analyst: string, jobId: string, epsilon: number): Promise<void> {
  const b = await ledgerBalance({ dataset, analyst });
  assert.deepEqual(b.reservations, { total: 1, reserved: 0, committed: 1, released: 0 });
  assert.equal((await ledgerReservation({ dataset, analyst, jobId }))?.epsilonSpent, epsilon);
  assert.ok(Math.abs(b.committed.epsilon - epsilon) < 1e-9, `ledger committed ε=${b.committed.epsilon}, the job spent ${epsilon}`);
}

test('a worker SIGKILLed twice mid-training: the job completes bit-identical to an uninterrupted run, ε charged once', { timeout: 180_000 }, async () => {
  const analystP = await newAnalyst('kill');
  const analyst = analystP.id;
  const jobId = uniqueName('ft-killed');
  const referenceAnalystP = await newAnalyst('kill-ref');
  const referenceAnalyst = referenceAnalystP.id;
  const referenceId = uniqueName('ft-ref');
  // Both jobs get the same run key: same batches, same noise, so the same weights unless the
  // restarts lose or repeat something.
  const key = randomBytes(32);
  await pinRunKey(store, jobId, key);
  await pinRunKey(store, referenceId, key);
  await grant(analyst);

  // The uninterrupted run trains at the same time, with in-process workers on a queue of its own.
  const referenceRun = withWorker(async ({ client, taskQueue }) => {
    await grant(referenceAnalyst, taskQueue);
    return client.workflow.execute('fineTune', { taskQueue, workflowId: referenceId, args: [signedBy(referenceAnalystP, 'fineTune', faultSpec(dataset, referenceAnalyst, referenceId))] }) as Promise<FineTuneResult>;
  }, { env });
  referenceRun.catch(() => {}); // awaited below; do not let an early failure go unhandled meanwhile

  let result: FineTuneResult;
  let first: number;
  let second: number;
  try {
    const handle = await env.client.workflow.start('fineTune', { taskQueue: queue, workflowId: jobId, args: [signedBy(analystP, 'fineTune', faultSpec(dataset, analyst, jobId))] });
    first = await checkpointAtLeast(store, jobId, 1);
    await killAndReplace(await trainingWorker(handle, 1)); // mid-step, past checkpoint `first`
    log(`killed after checkpoint ${first}`);
    const worker2 = await trainingWorker(handle, 2);
    // The second kill aims at the next checkpoint's upload: begun (a multipart upload is open)
    // but not committed. When the upload is too quick to catch, it lands just after the commit.
    const target = first + FAULT_CHECKPOINT_EVERY;
    second = target;
    const moment = await waitFor(`checkpoint step-${target} to be written`, async () => {
      if ((await unfinishedUploads(store, checkpointKey(jobId, target))) > 0) return 'while uploading';
      return (await committedCheckpointSteps(store, jobId)).includes(target) ? 'after committing' : undefined;
    }, 60_000, 20);
    await killAndReplace(worker2);
    log(`killed ${moment} checkpoint ${second}`);
    result = await handle.result();
    log(`killed run: ${result.message}`);
  } finally {
    await referenceRun.catch(() => {}); // its in-process workers stop before the next test
  }
  const reference = await referenceRun;
  log(`reference run: ${reference.message}`);

  assert.equal(result.status, 'completed', result.message);
  assert.equal(reference.status, 'completed', reference.message);
  const attempts = await activityAttempts(env.client, jobId, 'train');
  assert.ok(Math.max(...attempts) >= 3, `train attempts ${attempts.join(',')}`);
  assert.deepEqual(await activityAttempts(env.client, referenceId, 'train'), [1], 'the reference run was not interrupted');
  // The newest two checkpoints are kept, each whole; the ones the kills hit were deleted as newer
  // ones were committed, parts of an interrupted upload included.
  const steps = await verifyCheckpoints(store, jobId);
  assert.equal(steps.length, KEPT_CHECKPOINTS, `checkpoints ${steps.join(',')}`);
  assert.equal(steps.at(-1), result.steps);
  for (const step of steps) {
    const shards = await checkpointShardKeys(store, jobId, step);
    assert.ok(shards.length >= 2, `step-${step} is ${shards.length} shard(s)`);
    for (const key of shards) assert.equal(await unfinishedUploads(store, key), 0, `no parts of an unfinished upload of ${key} are left`);
  }
  for (const step of [first, second].filter((s) => !steps.includes(s))) {
    assert.equal((await store.listObjects(checkpointPrefix(jobId, step))).length, 0, `step-${step} was deleted`);
    assert.equal(await unfinishedUploads(store, checkpointKey(jobId, step)), 0, `no parts of an unfinished upload of step-${step} are left`);
  }
  assert.equal(result.steps, reference.steps);
  assert.equal(result.epsilon, reference.epsilon);
  assert.equal(await modelWeightsSha256(store, jobId), await modelWeightsSha256(store, referenceId), 'the same weights, bit for bit');
  await assertChargedOnce(analyst, jobId, result.epsilon as number);
});

test('the Temporal server restarted mid-training: the workers reconnect and the job completes', { timeout: 150_000 }, async () => {
  const cfg = config();
  const analystP = await newAnalyst('restart');
  const analyst = analystP.id;
  const jobId = uniqueName('ft-restart');
  await Promise.all(pool.map((w) => w.polling())); // the last replacement may still be starting
  await grant(analyst);
  // Four times as long as the others, so that training surely spans the restart: at twice as long,
  // a quiet CI machine finished training while the server was down (the first checkpoint seen was
  // step 3, and ~6 s of training were left against ~3 s of stop, sleep and restart).
  const handle = await env.client.workflow.start('fineTune', { taskQueue: queue, workflowId: jobId, args: [signedBy(analystP, 'fineTune', faultSpec(dataset, analyst, jobId, { epochs: 8 }))] });
  const before = await checkpointAtLeast(store, jobId, 1);
  let backAt: number;
  try {
    assert.equal(await stopTemporal(cfg), true, 'the Temporal server was running and is stopped');
    log(`Temporal stopped after checkpoint ${before}`);
    await sleep(2_000);
  } finally {
    await startTemporal(cfg);
    backAt = Date.now();
    log('Temporal started again');
  }
  const result: FineTuneResult = await handle.result();
  log(`restarted run: ${result.message}`);
  assert.equal(result.status, 'completed', result.message);
  const trainedAt = await activityCompletedAt(env.client, jobId, 'train');
  assert.ok(trainedAt !== undefined && trainedAt > backAt, 'training was still under way when the server came back');
  // The same run went on from the history kept in SQLite (an in-memory server would have lost it).
  assert.equal((await handle.describe()).runId, handle.firstExecutionRunId);
  // The server forgot its pollers when it stopped: those it lists polled again after the restart.
  const polling = [...(await pollers(env.client, queue, 'workflow')), ...(await pollers(env.client, `${queue}-gpu`, 'activity'))];
  for (const w of pool) {
    assert.ok(w.alive(), `worker ${w.workerPid()} is still running`);
    assert.ok(polling.some((identity) => w.hasIdentity(identity)), `worker ${w.workerPid()} polls again (pollers: ${polling.join(', ')})`);
  }
  await verifyCheckpoints(store, jobId);
  await assertChargedOnce(analyst, jobId, result.epsilon as number);
  log(`train attempts ${(await activityAttempts(env.client, jobId, 'train')).join(',')}`);
});

test('MinIO down while a checkpoint is written: training retries, then completes with every checkpoint whole', { timeout: 150_000 }, async () => {
  const cfg = config();
  const analystP = await newAnalyst('s3-outage');
  const analyst = analystP.id;
  const jobId = uniqueName('ft-s3');
  await grant(analyst);
  // Twice as long as the others, so that MinIO is surely gone before the last checkpoint is due.
  const handle = await env.client.workflow.start('fineTune', { taskQueue: queue, workflowId: jobId, args: [signedBy(analystP, 'fineTune', faultSpec(dataset, analyst, jobId, { epochs: 4 }))] });
  const first = await checkpointAtLeast(store, jobId, 1);
  // The server keeps only the latest attempt's failure: watch it from before the outage on, so
  // the failed upload is seen even when the next attempt (1 s later) has already failed too.
  const failures = new Set<string>();
  const watching = new AbortController();
  const watcher = (async () => {
    while (!watching.signal.aborted) {
      const failure = await pendingTrain(handle).then((t) => t?.lastFailure, () => undefined);
      if (failure) failures.add(failure);
      await sleep(100);
    }
  })();
  const downSince = Date.now();
  try {
    assert.equal(await stopMinio(cfg), true, 'MinIO was running and is stopped');
    log(`MinIO stopped after checkpoint ${first}`);
    await waitFor('a checkpoint upload to fail against the dead S3', async () => [...failures].some((f) => CHECKPOINT_UPLOAD_FAILED.test(f)), 30_000, 100)
      .catch((err: Error) => assert.fail(`${err.message}; failures seen: ${[...failures].join(' | ') || 'none'}`));
    // Down ~5 s in all: the retries that start meanwhile fail too, before one gets through.
    await sleep(Math.max(0, downSince + 5_000 - Date.now()));
  } finally {
    await startMinio(cfg);
    watching.abort();
    await watcher;
    log(`MinIO started again; failures seen: ${[...failures].join(' | ')}`);
  }
  const result: FineTuneResult = await handle.result();
  log(`S3 outage run: ${result.message}`);
  assert.equal(result.status, 'completed', result.message);
  const attempts = await activityAttempts(env.client, jobId, 'train');
  assert.ok(Math.max(...attempts) >= 2, `train attempts ${attempts.join(',')}`);
  // The newest two checkpoints whole; every older one deleted, the uploads MinIO's outage cut included.
  const steps = await verifyCheckpoints(store, jobId);
  const previous = result.steps - (result.steps % FAULT_CHECKPOINT_EVERY || FAULT_CHECKPOINT_EVERY);
  assert.deepEqual(steps, [previous, result.steps], `checkpoints ${steps.join(',')}`);
  for (let step = 1; step <= result.steps; step++) {
    assert.equal(await unfinishedUploads(store, checkpointKey(jobId, step)), 0, `no parts of an unfinished upload of step-${step} are left`);
    if (!steps.includes(step)) assert.equal((await store.listObjects(checkpointPrefix(jobId, step))).length, 0, `step-${step} was deleted`);
  }
  await assertChargedOnce(analyst, jobId, result.epsilon as number);
});

test('a cancelled job stops within one step, keeps its checkpoint and is charged what it spent', { timeout: 120_000 }, async () => {
  const analystP = await newAnalyst('cancel');
  const analyst = analystP.id;
  const jobId = uniqueName('ft-cancel');
  await grant(analyst);
  // Long enough that the cancellation, which reaches the activity with the answer to its next
  // heartbeat (the worker sends one at most every min(0.8 × heartbeat timeout, its throttle
  // interval)), surely arrives before the end.
  const handle = await env.client.workflow.start('fineTune', { taskQueue: queue, workflowId: jobId, args: [signedBy(analystP, 'fineTune', faultSpec(dataset, analyst, jobId, { epochs: 8 }))] });
  const first = await checkpointAtLeast(store, jobId, 1);
  const state = await pendingTrain(handle);
  await handle.cancel();
  const cancelledAt = Date.now();
  // A settled cancellation ends the workflow CANCELLED and keeps its result for the jobResult query.
  await assert.rejects(handle.result(), (err: unknown) => err instanceof WorkflowFailedError && err.cause instanceof CancelledFailure);
  const result = (await handle.query(jobResultQuery))!;
  log(`cancelled after checkpoint ${first} (heartbeat step ${state?.progress?.step}): ${result.message} in ${Date.now() - cancelledAt} ms`);

  assert.equal(result.status, 'cancelled', result.message);
  assert.equal(result.modelId, '');
  const details = await trainCancellation(handle);
  assert.ok(details.stoppedAfterStep - details.cancelRequestedAfterStep <= 1, `cancelled during step ${details.cancelRequestedAfterStep + 1}, stopped after step ${details.stoppedAfterStep}`);
  assert.equal(details.checkpointStep, details.stoppedAfterStep);
  assert.equal(result.steps, details.stoppedAfterStep);
  const steps = await committedCheckpointSteps(store, jobId);
  assert.equal(steps.at(-1), result.steps, `the checkpoint of the step it stopped at is kept (checkpoints ${steps.join(',')})`);
  const manifest = await store.readManifest(checkpointPrefix(jobId, result.steps));
  await store.verifyManifest(manifest);
  assert.equal(manifest.meta.epsilon, result.epsilon);
  assert.ok(typeof result.epsilon === 'number' && result.epsilon > 0 && result.epsilon < 8);
  await assertChargedOnce(analyst, jobId, result.epsilon);
});

/** The train activity's cancellation details, from the ActivityTaskCanceled event of the history. */
async function trainCancellation(handle: WorkflowHandle): Promise<TrainCancellation> {
  const history = await handle.fetchHistory();
  const event = history.events?.find((e) => e.activityTaskCanceledEventAttributes);
  const payload = event?.activityTaskCanceledEventAttributes?.details?.payloads?.[0];
  assert.ok(payload, 'the train activity reported its cancellation with details');
  const [details] = await openPayloads(handle, [payload]);
  return details as TrainCancellation;
}
