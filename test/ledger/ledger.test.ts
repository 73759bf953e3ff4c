// The ledger against the real Temporal server: an in-process worker on a unique task queue, fresh
// (dataset, analyst) names per run because the server keeps its data.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import {
  LedgerError,
  LedgerErrorType,
  balance,
  commit,
  getReservation,
  grantBudget,
  ledgerWorkflowId,
  release,
  reserve,
  type LedgerKey,
  type SignedCallOptions,
} from '../../clients/sdk/ledger.ts';
import { claimDatasetOwner, createPrincipal } from '../../infra/access/index.ts';
import { newAnalyst, newOwner, ownerLedger, serviceLedger, type TestPrincipal } from '../helpers/principals.ts';
import { testStore } from '../helpers/storage.ts';
import { commitUpdate, grantUpdate, releaseUpdate, reserveUpdate } from '../../workflows/ledger/definitions.ts';
import { startLedgerWorker, type LedgerTestWorker } from './ledger-worker.ts';

const runTag = randomUUID().slice(0, 8);
let env: LedgerTestWorker;
/** Service-signed options: what the budget activities use for reserve, commit and release. */
let opts: SignedCallOptions;
/** Grants signed by the owner of the tests' dataset. */
let grantOpts: SignedCallOptions;
let owner: TestPrincipal;
const dataset = `notes-${runTag}`;
const created: string[] = [];

/** A fresh ledger key with its analyst principal; remembered so the workflow can be terminated after the tests. */
async function freshKey(label: string): Promise<LedgerKey> {
  const key = { dataset, analyst: `${label}-${randomUUID().slice(0, 6)}` };
  await createPrincipal(await testStore(), { id: key.analyst, role: 'analyst' });
  created.push(ledgerWorkflowId(key.dataset, key.analyst));
  return key;
}

async function refusal(promise: Promise<unknown>, code: LedgerErrorType): Promise<LedgerError> {
  const err = await promise.then(
    () => assert.fail(`expected a ${code} refusal`),
    (e: unknown) => e,
  );
  assert.ok(err instanceof LedgerError, `expected LedgerError, got ${String(err)}`);
  assert.equal(err.code, code, err.message);
  return err;
}

/** Every payload string in a workflow's history (inputs of accepted Updates included). */
async function historyText(workflowId: string): Promise<{ text: string; acceptedUpdates: number; succeededUpdates: number }> {
  const history = await env.client.workflow.getHandle(workflowId).fetchHistory();
  const decoder = new TextDecoder();
  const parts: string[] = [];
  const walk = (v: unknown): void => {
    if (v instanceof Uint8Array) parts.push(decoder.decode(v));
    else if (Array.isArray(v)) v.forEach(walk);
    else if (v !== null && typeof v === 'object') Object.values(v).forEach(walk);
  };
  walk(history.events);
  const acceptedUpdates = (history.events ?? []).filter((e) => e.workflowExecutionUpdateAcceptedEventAttributes != null).length;
  const succeededUpdates = (history.events ?? []).filter((e) => e.workflowExecutionUpdateCompletedEventAttributes?.outcome?.success != null).length;
  return { text: parts.join('\n'), acceptedUpdates, succeededUpdates };
}

before(async () => {
  env = await startLedgerWorker();
  opts = serviceLedger(env.taskQueue);
  owner = await newOwner('ledger-owner');
  await claimDatasetOwner(await testStore(), dataset, owner.id);
  grantOpts = ownerLedger(owner, env.taskQueue);
});

after(async () => {
  // The ledgers would otherwise wait forever on a task queue nobody polls again.
  await Promise.allSettled(created.map((id) => env.client.workflow.getHandle(id).terminate('ledger test finished')));
  await env.stop();
});

describe('privacy ledger (real Temporal server)', () => {
  it('grants, reserves, commits the actual spend and releases an untouched job', async () => {
    const key = await freshKey('flow');
    const granted = await grantBudget(env.client, { ...key, epsilon: 8, delta: 1e-5 }, grantOpts);
    assert.deepEqual(granted.remaining, { epsilon: 8, delta: 1e-5 });

    const r1 = await reserve(env.client, { ...key, jobId: 'job-1', epsilon: 3, delta: 2e-6 }, opts);
    assert.equal(r1.state, 'reserved');
    await reserve(env.client, { ...key, jobId: 'job-2', epsilon: 2, delta: 2e-6 }, opts);
    const c1 = await commit(env.client, { ...key, jobId: 'job-1', epsilonSpent: 2.75 }, opts);
    assert.deepEqual([c1.state, c1.epsilonSpent, c1.deltaSpent], ['committed', 2.75, 2e-6]);
    const rel = await release(env.client, { ...key, jobId: 'job-2' }, opts);
    assert.equal(rel.state, 'released');

    await reserve(env.client, { ...key, jobId: 'job-3', epsilon: 4, delta: 1e-6 }, opts);
    const b = await balance(env.client, key);
    assert.deepEqual(b.granted, { epsilon: 8, delta: 1e-5 });
    assert.deepEqual(b.committed, { epsilon: 2.75, delta: 2e-6 });
    assert.deepEqual(b.reserved, { epsilon: 4, delta: 1e-6 });
    assert.deepEqual(b.remaining, { epsilon: 1.25, delta: 7e-6 });
    assert.deepEqual(b.reservations, { total: 3, reserved: 1, committed: 1, released: 1 });

    const err = await refusal(reserve(env.client, { ...key, jobId: 'job-4', epsilon: 3, delta: 1e-6 }, opts), LedgerErrorType.BudgetExhausted);
    assert.equal(err.message, `budget exhausted: requested ε=3 but only ε=1.25 remains of 8 for analyst ${key.analyst} on dataset ${key.dataset}`);

    // The owner may raise the grant, and lower it down to (not below) what is committed + reserved.
    await refusal(grantBudget(env.client, { ...key, epsilon: 6, delta: 1e-5 }, grantOpts), LedgerErrorType.GrantBelowUsage);
    const lowered = await grantBudget(env.client, { ...key, epsilon: 6.75, delta: 1e-5 }, grantOpts);
    assert.deepEqual(lowered.remaining, { epsilon: 0, delta: 7e-6 });
    const raised = await grantBudget(env.client, { ...key, epsilon: 10, delta: 1e-5 }, grantOpts);
    assert.equal(raised.remaining.epsilon, 3.25);
  });

  it('never over-spends under 50 concurrent reservations: exactly 10 of ε=1 fit a budget of 10', async () => {
    const key = await freshKey('race');
    await grantBudget(env.client, { ...key, epsilon: 10, delta: 1e-5 }, grantOpts);
    const results = await Promise.allSettled(
      Array.from({ length: 50 }, (_, i) => reserve(env.client, { ...key, jobId: `job-${i}`, epsilon: 1, delta: 1e-8 }, opts)),
    );
    const ok = results.filter((r) => r.status === 'fulfilled');
    const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    assert.equal(ok.length, 10);
    assert.equal(refused.length, 40);
    for (const r of refused) {
      assert.ok(r.reason instanceof LedgerError, String(r.reason));
      assert.equal(r.reason.code, LedgerErrorType.BudgetExhausted);
      assert.match(r.reason.message, /^budget exhausted: requested ε=1 but only ε=0 remains of 10 for analyst race-/);
    }
    const b = await balance(env.client, key);
    assert.deepEqual(b.reserved, { epsilon: 10, delta: 1e-7 });
    assert.equal(b.remaining.epsilon, 0);
    assert.equal(b.reservations.total, 10);
    // Only the grant and the 10 reservations succeeded. Requests that passed their validator while
    // earlier ones awaited their signature check were refused by the handler's final check.
    const { acceptedUpdates, succeededUpdates } = await historyText(ledgerWorkflowId(key.dataset, key.analyst));
    assert.equal(succeededUpdates, 11);
    assert.ok(acceptedUpdates >= 11 && acceptedUpdates <= 51, `accepted ${acceptedUpdates}`);
  });

  it('is idempotent by job id: same reservation again, commit twice is a no-op, conflicts are refused', async () => {
    const key = await freshKey('idem');
    await grantBudget(env.client, { ...key, epsilon: 5, delta: 1e-5 }, grantOpts);
    const first = await reserve(env.client, { ...key, jobId: 'job-a', epsilon: 2, delta: 1e-6 }, opts);
    const again = await reserve(env.client, { ...key, jobId: 'job-a', epsilon: 2, delta: 1e-6 }, opts);
    assert.deepEqual(again, first);
    assert.equal((await balance(env.client, key)).reserved.epsilon, 2);
    await refusal(reserve(env.client, { ...key, jobId: 'job-a', epsilon: 3, delta: 1e-6 }, opts), LedgerErrorType.ReservationConflict);

    const c1 = await commit(env.client, { ...key, jobId: 'job-a', epsilonSpent: 1.5 }, opts);
    const c2 = await commit(env.client, { ...key, jobId: 'job-a', epsilonSpent: 1.5 }, opts);
    assert.deepEqual(c2, c1);
    assert.equal((await balance(env.client, key)).committed.epsilon, 1.5);
    await refusal(commit(env.client, { ...key, jobId: 'job-a', epsilonSpent: 1 }, opts), LedgerErrorType.ReservationConflict);
    await refusal(release(env.client, { ...key, jobId: 'job-a' }, opts), LedgerErrorType.InvalidTransition);

    await reserve(env.client, { ...key, jobId: 'job-b', epsilon: 1, delta: 1e-6 }, opts);
    const r1 = await release(env.client, { ...key, jobId: 'job-b' }, opts);
    assert.deepEqual(await release(env.client, { ...key, jobId: 'job-b' }, opts), r1);
    await refusal(commit(env.client, { ...key, jobId: 'job-b', epsilonSpent: 1 }, opts), LedgerErrorType.InvalidTransition);
    const b = await balance(env.client, key);
    assert.deepEqual([b.committed.epsilon, b.reserved.epsilon, b.remaining.epsilon], [1.5, 0, 3.5]);
  });

  it('refuses bad input in validators, leaving no trace in history', async () => {
    const key = await freshKey('valid');
    const workflowId = ledgerWorkflowId(key.dataset, key.analyst);
    await grantBudget(env.client, { ...key, epsilon: 4, delta: 1e-5 }, grantOpts);
    await reserve(env.client, { ...key, jobId: 'job-good', epsilon: 1, delta: 1e-6 }, opts);
    const handle = env.client.workflow.getHandle(workflowId);

    // Raw Updates, bypassing the client's own checks: NaN travels as JSON null.
    const rawRefusals: Array<[() => Promise<unknown>, string]> = [
      [() => handle.executeUpdate(reserveUpdate, { args: [{ jobId: 'job-nan', epsilon: NaN, delta: 0 }] }), LedgerErrorType.InvalidArgument],
      [() => handle.executeUpdate(reserveUpdate, { args: [{ jobId: 'job-zero', epsilon: 0, delta: 0 }] }), LedgerErrorType.InvalidArgument],
      [() => handle.executeUpdate(reserveUpdate, { args: [{ jobId: 'job-neg', epsilon: -1, delta: 0 }] }), LedgerErrorType.InvalidArgument],
      [() => handle.executeUpdate(reserveUpdate, { args: [{ jobId: 'job-unl', epsilon: 'unlimited' as never, delta: 0 }] }), LedgerErrorType.InvalidArgument],
      [() => handle.executeUpdate(reserveUpdate, { args: [{ jobId: 'job-big', epsilon: 9, delta: 0 }] }), LedgerErrorType.BudgetExhausted],
      [() => handle.executeUpdate(commitUpdate, { args: [{ jobId: 'job-ghost', epsilonSpent: 1 }] }), LedgerErrorType.UnknownJob],
      [() => handle.executeUpdate(commitUpdate, { args: [{ jobId: 'job-good', epsilonSpent: 1.5 }] }), LedgerErrorType.ExceedsReservation],
      [() => handle.executeUpdate(grantUpdate, { args: [{ epsilon: 0.5, delta: 1e-5, issuedAt: Date.now() + 60_000 }] }), LedgerErrorType.GrantBelowUsage],
      [() => handle.executeUpdate(grantUpdate, { args: [{ epsilon: 5, delta: 1e-5 } as never] }), LedgerErrorType.InvalidArgument],
    ];
    const messages: string[] = [];
    for (const [send, code] of rawRefusals) {
      const err = await send().then(() => assert.fail(`expected ${code}`), (e: unknown) => e);
      assert.ok(err instanceof WorkflowUpdateFailedError && err.cause instanceof ApplicationFailure, String(err));
      assert.equal(err.cause.type, code, err.cause.message);
      messages.push(err.cause.message);
    }
    assert.match(messages[0], /epsilon must be a finite number > 0 \(got null/);
    assert.match(messages[3], /'unlimited' is not accepted: the ledger tracks finite budgets only/);
    // Through the client, NaN is named as such instead of arriving as null.
    const nan = await refusal(reserve(env.client, { ...key, jobId: 'job-nan2', epsilon: NaN, delta: 0 }, opts), LedgerErrorType.InvalidArgument);
    assert.match(nan.message, /NaN/);

    const { text, acceptedUpdates } = await historyText(workflowId);
    assert.equal(acceptedUpdates, 2);
    assert.ok(text.includes('job-good'), 'the accepted reservation is in history (so the search below can find job ids)');
    for (const id of ['job-nan', 'job-zero', 'job-neg', 'job-unl', 'job-big', 'job-ghost']) assert.ok(!text.includes(id), `${id} leaked into history`);
    assert.equal(await getReservation(env.client, { ...key, jobId: 'job-big' }), null);
  });

  it('continues as new with its state intact, also under concurrent Updates', async () => {
    const key = await freshKey('can');
    const workflowId = ledgerWorkflowId(key.dataset, key.analyst);
    const small = { ...opts, continueAsNewAfter: 3 };
    await grantBudget(env.client, { ...key, epsilon: 20, delta: 1e-4 }, { ...grantOpts, continueAsNewAfter: 3 });
    const firstRunId = (await env.client.workflow.getHandle(workflowId).describe()).runId;
    const early = await reserve(env.client, { ...key, jobId: 'job-0', epsilon: 1, delta: 1e-6 }, small);
    await commit(env.client, { ...key, jobId: 'job-0', epsilonSpent: 0.5 }, small);
    const results = await Promise.allSettled(
      Array.from({ length: 12 }, (_, i) => reserve(env.client, { ...key, jobId: `job-${i + 1}`, epsilon: 1.5, delta: 1e-6 }, small)),
    );
    // 19.5 remain: 13 × 1.5 = 19.5 would fit, 12 do.
    assert.deepEqual(results.map((r) => r.status), Array(12).fill('fulfilled'));

    const description = await env.client.workflow.getHandle(workflowId).describe();
    assert.notEqual(description.runId, firstRunId, 'the ledger continued as new');
    assert.equal(description.status.name, 'RUNNING');
    const b = await balance(env.client, key);
    assert.deepEqual(b.granted, { epsilon: 20, delta: 1e-4 });
    assert.equal(b.committed.epsilon, 0.5);
    assert.equal(b.reserved.epsilon, 18);
    assert.equal(b.remaining.epsilon, 1.5);
    assert.deepEqual(b.reservations, { total: 13, reserved: 12, committed: 1, released: 0 });
    // Job ids stay idempotent across runs: the first run's reservation comes back unchanged.
    const replayed = await reserve(env.client, { ...key, jobId: 'job-0', epsilon: 1, delta: 1e-6 }, small);
    assert.equal(replayed.at, early.at);
    assert.equal(replayed.state, 'committed');
  });

  it('reads an unused ledger as empty without creating it, and never recreates a closed one', async () => {
    const unused = await freshKey('unused');
    const b = await balance(env.client, unused);
    assert.deepEqual([b.granted.epsilon, b.remaining.epsilon, b.reservations.total], [0, 0, 0]);
    await assert.rejects(env.client.workflow.getHandle(ledgerWorkflowId(unused.dataset, unused.analyst)).describe(), WorkflowNotFoundError);

    const key = await freshKey('closed');
    await grantBudget(env.client, { ...key, epsilon: 1, delta: 1e-5 }, grantOpts);
    await env.client.workflow.getHandle(ledgerWorkflowId(key.dataset, key.analyst)).terminate('test: simulate an operator closing it');
    await refusal(reserve(env.client, { ...key, jobId: 'job-x', epsilon: 1, delta: 0 }, opts), LedgerErrorType.LedgerClosed);
  });

  it('gives each (dataset, analyst) its own ledger, even when names differ only in punctuation', async () => {
    // Ids are percent-encoded one-to-one ("a/b" and "a_b" are different ledgers)…
    assert.notEqual(ledgerWorkflowId(dataset, 'a/b'), ledgerWorkflowId(dataset, 'a_b'));
    // …and two live ledgers for analysts whose ids differ only in '.' and '_' stay apart.
    const a = await freshKey('x.y');
    const b = { dataset, analyst: a.analyst.replace('.', '_') };
    await createPrincipal(await testStore(), { id: b.analyst, role: 'analyst' });
    created.push(ledgerWorkflowId(b.dataset, b.analyst));
    await grantBudget(env.client, { ...a, epsilon: 2, delta: 0 }, grantOpts);
    await grantBudget(env.client, { ...b, epsilon: 3, delta: 0 }, grantOpts);
    await reserve(env.client, { ...a, jobId: 'j', epsilon: 2, delta: 0 }, opts);
    assert.equal((await balance(env.client, a)).remaining.epsilon, 0);
    assert.equal((await balance(env.client, b)).remaining.epsilon, 3);
  });
});

describe('who may write to the ledger (signed writes, real Temporal server)', () => {
  it('takes grants only from the dataset owner, and never from an analyst or another owner', async () => {
    const key = await freshKey('grantee');
    const analyst: TestPrincipal = { id: key.analyst, token: '' };
    const intruder = await newOwner('other-owner');
    const someAnalyst = await newAnalyst('greedy');
    const byIntruder = await refusal(grantBudget(env.client, { ...key, epsilon: 100, delta: 0.1 }, ownerLedger(intruder, env.taskQueue)), LedgerErrorType.Unauthorized);
    assert.match(byIntruder.message, /does not own dataset/);
    const byAnalyst = await refusal(grantBudget(env.client, { ...key, epsilon: 100, delta: 0.1 }, ownerLedger(someAnalyst, env.taskQueue)), LedgerErrorType.Unauthorized);
    assert.match(byAnalyst.message, /only the dataset's owner/);
    // A made-up token (right shape, wrong secret) does not verify.
    const forged = { id: owner.id, token: `veil1.${owner.id}.${'A'.repeat(43)}` };
    const byForger = await refusal(grantBudget(env.client, { ...key, epsilon: 100, delta: 0.1 }, ownerLedger(forged, env.taskQueue)), LedgerErrorType.Unauthorized);
    assert.match(byForger.message, /signature does not verify/);
    // Budgets go to analysts only: not to an owner, not to a name that is no principal.
    const notAnalyst = { dataset, analyst: intruder.id };
    created.push(ledgerWorkflowId(notAnalyst.dataset, notAnalyst.analyst));
    await refusal(grantBudget(env.client, { ...notAnalyst, epsilon: 1, delta: 0 }, grantOpts), LedgerErrorType.Unauthorized);
    assert.equal((await balance(env.client, key)).granted.epsilon, 0, 'no refused grant took effect');
    assert.equal(analyst.id, key.analyst);
  });

  it('refuses reserve, commit and release that Veil\'s service did not sign', async () => {
    const key = await freshKey('unsigned');
    await grantBudget(env.client, { ...key, epsilon: 5, delta: 1e-5 }, grantOpts);
    await reserve(env.client, { ...key, jobId: 'job-1', epsilon: 2, delta: 1e-6 }, opts);
    const handle = env.client.workflow.getHandle(ledgerWorkflowId(key.dataset, key.analyst));
    // An analyst who can reach Temporal tries to hand the reservation back (to get ε for free).
    const unsigned = await handle.executeUpdate(releaseUpdate, { args: [{ jobId: 'job-1' }] }).then(() => assert.fail('released'), (e: unknown) => e);
    assert.ok(unsigned instanceof WorkflowUpdateFailedError && unsigned.cause instanceof ApplicationFailure);
    assert.equal(unsigned.cause.type, LedgerErrorType.Unauthorized, unsigned.cause.message);
    // Signed by an owner's token instead of the service: refused too.
    await refusal(release(env.client, { ...key, jobId: 'job-1' }, ownerLedger(owner, env.taskQueue)), LedgerErrorType.Unauthorized);
    // A service signature for another ledger does not verify on this one.
    const other = await freshKey('other');
    await grantBudget(env.client, { ...other, epsilon: 5, delta: 1e-5 }, grantOpts);
    const signedForOther = await opts.signer('ledger.release', { jobId: 'job-1', dataset: other.dataset, analyst: other.analyst });
    const moved = await handle.executeUpdate(releaseUpdate, { args: [{ jobId: 'job-1', auth: signedForOther }] }).then(() => assert.fail('released'), (e: unknown) => e);
    assert.ok(moved instanceof WorkflowUpdateFailedError && moved.cause instanceof ApplicationFailure);
    assert.equal(moved.cause.type, LedgerErrorType.Unauthorized);
    const r = await getReservation(env.client, { ...key, jobId: 'job-1' });
    assert.equal(r?.state, 'reserved', 'the reservation is still held');
    assert.equal((await balance(env.client, key)).remaining.epsilon, 3);
  });

  it('applies grants in the order they were signed: an old signed grant cannot be replayed', async () => {
    const key = await freshKey('replay');
    const handle = env.client.workflow.getHandle(ledgerWorkflowId(key.dataset, key.analyst));
    const generous = { epsilon: 10, delta: 1e-5, issuedAt: Date.now() };
    const payload = { ...generous, dataset: key.dataset, analyst: key.analyst };
    const auth = await grantOpts.signer('grant', payload);
    await grantBudget(env.client, { ...key, epsilon: 1, delta: 1e-5 }, grantOpts); // creates the ledger
    // The owner's generous grant, signed earlier, arrives after a stricter one was applied.
    await grantBudget(env.client, { ...key, epsilon: 2, delta: 1e-5 }, grantOpts);
    const replayed = await handle.executeUpdate(grantUpdate, { args: [{ ...generous, auth }] }).then(() => assert.fail('applied'), (e: unknown) => e);
    assert.ok(replayed instanceof WorkflowUpdateFailedError && replayed.cause instanceof ApplicationFailure);
    assert.equal(replayed.cause.type, LedgerErrorType.StaleGrant, replayed.cause.message);
    assert.equal((await balance(env.client, key)).granted.epsilon, 2);
    // Tampering with a signed grant's amount breaks its signature.
    const fresh = { epsilon: 3, delta: 1e-5, issuedAt: Date.now() + 1000 };
    const freshAuth = await grantOpts.signer('grant', { ...fresh, dataset: key.dataset, analyst: key.analyst });
    const tampered = await handle.executeUpdate(grantUpdate, { args: [{ ...fresh, epsilon: 30, auth: freshAuth }] }).then(() => assert.fail('applied'), (e: unknown) => e);
    assert.ok(tampered instanceof WorkflowUpdateFailedError && tampered.cause instanceof ApplicationFailure);
    assert.equal(tampered.cause.type, LedgerErrorType.Unauthorized);
    assert.equal((await balance(env.client, key)).granted.epsilon, 2);
  });
});
