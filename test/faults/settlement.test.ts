// Whatever ends a fine-tune after its training touched the data, the ledger reservation is
// settled at what was spent: a cancellation that arrives during the evaluation, or just as it
// completes, must not leave the job's ε "reserved" forever. The evaluation activity is replaced
// by one that waits for the test, so the cancellation lands exactly there; training is real.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Context } from '@temporalio/activity';
import { CancelledFailure } from '@temporalio/common';
import { WorkflowFailedError, type Client, type WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Evaluation } from '../../activities/training/index.ts';
import type { EvaluateInput } from '../../activities/training/evaluate.ts';
import { reserveBudget } from '../../activities/budget/budget.ts';
import { grantBudget } from '../../clients/sdk/budget.ts';
import { ledgerBalance, ledgerReservation } from '../helpers/ledger.ts';
import { checkpointPrefix, modelPrefix, type ArtifactStore } from '../../infra/storage/index.ts';
import { DATA_REPORT_EPSILON, EVALUATION_EPSILON } from '../../contracts/fine-tune.ts';
import type { FineTuneResult } from '../../contracts/fine-tune.ts';
import { uniqueName } from '../helpers/names.ts';
import { newAnalyst, ownerLedger, signedBy, type TestPrincipal } from '../helpers/principals.ts';
import { testStore } from '../helpers/storage.ts';
import { connectTestEnvironment, withWorker } from '../helpers/temporal.ts';
import { addNotesDataset, committedCheckpointSteps, faultSpec, waitFor } from './harness.ts';
import { jobResultQuery } from '../../workflows/fine-tune/search-attributes.ts';

let env: TestWorkflowEnvironment;
let store: ArtifactStore;
let owner: TestPrincipal;
const dataset = uniqueName('settle-notes');

before(async () => {
  env = await connectTestEnvironment();
  store = await testStore();
  owner = await addNotesDataset(env, store, dataset);
});

after(async () => {
  await env?.teardown();
});

/** An evaluation that starts, then waits for the test; `outcome` decides how it ends. */
function heldEvaluation(outcome: 'await-cancellation' | 'complete') {
  let entered!: () => void;
  let release!: () => void;
  const started = new Promise<void>((resolve) => (entered = resolve));
  const released = new Promise<void>((resolve) => (release = resolve));
  async function evaluateModel(input: EvaluateInput): Promise<Evaluation> {
    entered();
    await released;
    if (outcome === 'await-cancellation') {
      const ctx = Context.current();
      // Its first heartbeat goes out at once, and the server's answer carries the cancellation.
      ctx.heartbeat();
      await ctx.cancelled;
    }
    return { testLoss: 3, perplexity: Math.exp(3), rows: 8, epsilon: input.evaluationEpsilon };
  }
  return { started, release, evaluateModel };
}

/** Waits until the workflow asked the server to cancel its pending evaluation. */
async function evaluationCancelRequested(handle: WorkflowHandle): Promise<void> {
  await waitFor('the evaluation activity to be asked to cancel', async () => {
    const history = await handle.fetchHistory();
    return history.events?.some((e) => e.activityTaskCancelRequestedEventAttributes) ?? false;
  }, 30_000);
}

interface HeldJob {
  outcome: { result: FineTuneResult } | { error: unknown };
  analyst: string;
  jobId: string;
  /** ε and step of the run's final checkpoint. */
  trainingEpsilon: number;
  finalStep: number;
  client: Client;
}

/**
 * How the job ended: its result, or its failure. A cancelled job that settled ends CANCELLED and
 * keeps its result for the jobResult query.
 */
async function endOf(handle: WorkflowHandle): Promise<{ result: FineTuneResult } | { error: unknown }> {
  return handle.result().then(
    (result: FineTuneResult) => ({ result }),
    async (error: unknown) => {
      const kept = await handle.query(jobResultQuery);
      return kept ? { result: kept } : { error };
    },
  );
}

/** Runs a short real fine-tune whose evaluation is held, cancels it there, then calls `check` (workers still up: the ledger answers queries). */
async function runHeldJob(outcome: 'await-cancellation' | 'complete', check: (job: HeldJob) => Promise<void>): Promise<void> {
  const held = heldEvaluation(outcome);
  await withWorker(async ({ client, taskQueue }) => {
    const analystP = await newAnalyst('settle');
    const analyst = analystP.id;
    const jobId = uniqueName('ft-settle');
    await grantBudget(client, { dataset, analyst, epsilon: 20, delta: 5e-3 }, ownerLedger(owner, taskQueue));
    const spec = signedBy(analystP, 'fineTune', faultSpec(dataset, analyst, jobId, { epochs: 0.5, checkpointEvery: 2 }));
    const handle = await client.workflow.start('fineTune', { taskQueue, workflowId: jobId, args: [spec] });
    await held.started; // training is over, its final checkpoint committed
    await handle.cancel();
    await evaluationCancelRequested(handle);
    held.release();
    const ended = await endOf(handle);
    const steps = await committedCheckpointSteps(store, jobId);
    const final = await store.readManifest(checkpointPrefix(jobId, steps.at(-1)!));
    await check({ outcome: ended, analyst, jobId, trainingEpsilon: final.meta.epsilon as number, finalStep: final.meta.step as number, client });
  }, { env, gpuActivities: { evaluateModel: held.evaluateModel } });
}

async function assertSettled(job: HeldJob, epsilonSpent: number): Promise<void> {
  const reservation = await ledgerReservation({ dataset, analyst: job.analyst, jobId: job.jobId });
  assert.equal(reservation?.state, 'committed', 'the reservation is settled, not left reserved');
  assert.equal(reservation?.epsilonSpent, epsilonSpent);
  assert.equal((await ledgerBalance({ dataset, analyst: job.analyst })).reserved.epsilon, 0);
  assert.equal(await store.tryReadManifest(modelPrefix(job.jobId)), undefined, 'no model is registered');
}

test('cancelled during the evaluation: the job ends cancelled and is charged its training ε and the data report\'s only', { timeout: 120_000 }, async () => {
  await runHeldJob('await-cancellation', async (job) => {
    assert.ok('result' in job.outcome, `the cancelled workflow keeps its result (got ${String('error' in job.outcome && job.outcome.error)})`);
    const { result } = job.outcome;
    assert.equal(result.status, 'cancelled', result.message);
    assert.equal(result.epsilon, job.trainingEpsilon + DATA_REPORT_EPSILON);
    assert.equal(result.steps, job.finalStep);
    assert.ok(result.dataReport && result.dataReport.epsilon === DATA_REPORT_EPSILON, 'the data report was released before the evaluation');
    await assertSettled(job, job.trainingEpsilon + DATA_REPORT_EPSILON); // no evaluation ε: its noisy loss was never released
  });
});

test('cancelled as the evaluation completes: the released test loss is charged with the training ε', { timeout: 120_000 }, async () => {
  await runHeldJob('complete', async (job) => {
    const error = 'error' in job.outcome ? job.outcome.error : undefined;
    assert.ok(error instanceof WorkflowFailedError && error.cause instanceof CancelledFailure, `the workflow ends cancelled (got ${String(error)})`);
    await assertSettled(job, job.trainingEpsilon + DATA_REPORT_EPSILON + EVALUATION_EPSILON);
  });
});

/** Waits until the workflow has processed its cancellation (a workflow task completed after it). */
async function cancellationProcessed(handle: WorkflowHandle): Promise<void> {
  await waitFor('the workflow to process its cancellation', async () => {
    const events = (await handle.fetchHistory()).events ?? [];
    const requested = events.findIndex((e) => e.workflowExecutionCancelRequestedEventAttributes);
    return requested >= 0 && events.slice(requested).some((e) => e.workflowTaskCompletedEventAttributes);
  }, 30_000);
}

test('cancelled while the ledger records the reservation: the job ends cancelled and nothing stays reserved', { timeout: 60_000 }, async () => {
  let entered!: () => void;
  let release!: () => void;
  let recorded!: () => void;
  const started = new Promise<void>((resolve) => (entered = resolve));
  const released = new Promise<void>((resolve) => (release = resolve));
  const finished = new Promise<void>((resolve) => (recorded = resolve));
  async function heldReserve(req: Parameters<typeof reserveBudget>[0]): ReturnType<typeof reserveBudget> {
    entered();
    await released;
    try {
      return await reserveBudget(req);
    } finally {
      recorded();
    }
  }
  await withWorker(async ({ client, taskQueue }) => {
    const analystP = await newAnalyst('settle-reserve');
    const analyst = analystP.id;
    const jobId = uniqueName('ft-settle-reserve');
    await grantBudget(client, { dataset, analyst, epsilon: 20, delta: 5e-3 }, ownerLedger(owner, taskQueue));
    const handle = await client.workflow.start('fineTune', { taskQueue, workflowId: jobId, args: [signedBy(analystP, 'fineTune', faultSpec(dataset, analyst, jobId))] });
    await started;
    await handle.cancel();
    await cancellationProcessed(handle);
    release();
    await finished; // the reservation is in the ledger now
    const ended = await endOf(handle);
    const reservation = await ledgerReservation({ dataset, analyst, jobId });
    assert.notEqual(reservation?.state, 'reserved', 'the reservation is settled, not left reserved');
    assert.equal(reservation?.epsilonSpent ?? 0, 0, 'no step ran: nothing is charged');
    assert.equal((await ledgerBalance({ dataset, analyst })).reserved.epsilon, 0);
    assert.ok('result' in ended, `the cancelled workflow keeps its result (got ${String('error' in ended && ended.error)})`);
    assert.equal(ended.result.status, 'cancelled', ended.result.message);
    assert.equal(ended.result.epsilon, 0);
  }, { env, activities: { reserveBudget: heldReserve } });
});
