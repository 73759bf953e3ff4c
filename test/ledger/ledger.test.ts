// The budget ledger against the real servers: grants travel through the grantBudget workflow (the
// owner's signature checked by the workers), reserve/commit/release are the workers' own writes to
// the S3 records, and every balance is read back from those records.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { commit, readBalance, readReservation, release, reserve, type LedgerKey } from '../../activities/budget/ledger.ts';
import { LedgerError, LedgerErrorType, datasetSpend, grantBudget, type SignedCallOptions } from '../../clients/sdk/budget.ts';
import { claimDatasetOwner, createPrincipal } from '../../infra/access/index.ts';
import { ledgerPrefix, ledgerRecordKey, type ArtifactStore } from '../../infra/storage/index.ts';
import { newAnalyst, newOwner, ownerLedger, type TestPrincipal } from '../helpers/principals.ts';
import { testStore } from '../helpers/storage.ts';
import { connectTestEnvironment, withWorker, type WorkerContext } from '../helpers/temporal.ts';

const runTag = randomUUID().slice(0, 8);
const dataset = `notes-${runTag}`;
let env: TestWorkflowEnvironment;
let store: ArtifactStore;
let owner: TestPrincipal;

before(async () => {
  env = await connectTestEnvironment();
  store = await testStore();
  owner = await newOwner('ledger-owner');
  await claimDatasetOwner(store, dataset, owner.id);
});

after(async () => {
  await env?.teardown();
});

/** A fresh ledger key with its analyst principal. */
async function freshKey(label: string): Promise<LedgerKey> {
  const key = { dataset, analyst: `${label}-${randomUUID().slice(0, 6)}` };
  await createPrincipal(store, { id: key.analyst, role: 'analyst' });
  return key;
}

/** The ledger refusal a promise rejects with (a LedgerError from the SDK, an ApplicationFailure from the workers' own writes). */
async function refusal(promise: Promise<unknown>, code: string): Promise<Error> {
  const err = await promise.then(
    () => assert.fail(`expected a ${code} refusal`),
    (e: unknown) => e,
  );
  if (err instanceof LedgerError) assert.equal(err.code, code, err.message);
  else if (err instanceof ApplicationFailure) assert.equal(err.type, code, err.message);
  else assert.fail(`expected a ledger refusal, got ${String(err)}`);
  return err;
}

const withLight = (fn: (ctx: WorkerContext) => Promise<void>) => withWorker(fn, { env, gpu: false });

describe('budget ledger (S3 records, real servers)', () => {
  it('grants, reserves, commits the actual spend and releases an untouched job', async () => {
    await withLight(async ({ client, taskQueue }) => {
      const grantOpts = ownerLedger(owner, taskQueue);
      const key = await freshKey('flow');
      const granted = await grantBudget(client, { ...key, epsilon: 8, delta: 1e-5 }, grantOpts);
      assert.deepEqual(granted.remaining, { epsilon: 8, delta: 1e-5 });

      const r1 = await reserve(store, key, { jobId: 'job-1', epsilon: 3, delta: 2e-6 });
      assert.equal(r1.state, 'reserved');
      await reserve(store, key, { jobId: 'job-2', epsilon: 2, delta: 2e-6 });
      const c1 = await commit(store, key, { jobId: 'job-1', epsilonSpent: 2.75 });
      assert.deepEqual([c1.state, c1.epsilonSpent, c1.deltaSpent], ['committed', 2.75, 2e-6]);
      assert.equal((await release(store, key, { jobId: 'job-2' })).state, 'released');

      await reserve(store, key, { jobId: 'job-3', epsilon: 4, delta: 1e-6 });
      const b = await readBalance(store, key);
      assert.deepEqual(b.granted, { epsilon: 8, delta: 1e-5 });
      assert.deepEqual(b.committed, { epsilon: 2.75, delta: 2e-6 });
      assert.deepEqual(b.reserved, { epsilon: 4, delta: 1e-6 });
      assert.deepEqual(b.remaining, { epsilon: 1.25, delta: 7e-6 });
      assert.deepEqual(b.reservations, { total: 3, reserved: 1, committed: 1, released: 1 });

      const err = await refusal(reserve(store, key, { jobId: 'job-4', epsilon: 3, delta: 1e-6 }), LedgerErrorType.BudgetExhausted);
      assert.equal(err.message, `requested ε=3 but only ε=1.25 remains of 8 for analyst ${key.analyst} on dataset ${key.dataset} (δ=0.000007 remains of 0.00001)`);

      // The owner may raise the grant, and lower it down to (not below) what is committed + reserved.
      await refusal(grantBudget(client, { ...key, epsilon: 6, delta: 1e-5 }, grantOpts), LedgerErrorType.GrantBelowUsage);
      const lowered = await grantBudget(client, { ...key, epsilon: 6.75, delta: 1e-5 }, grantOpts);
      assert.deepEqual(lowered.remaining, { epsilon: 0, delta: 7e-6 });
      const raised = await grantBudget(client, { ...key, epsilon: 10, delta: 1e-5 }, grantOpts);
      assert.equal(raised.remaining.epsilon, 3.25);
    });
  });

  it('never over-spends under 50 concurrent reservations: exactly 10 of ε=1 fit a budget of 10', async () => {
    await withLight(async ({ client, taskQueue }) => {
      const key = await freshKey('race');
      await grantBudget(client, { ...key, epsilon: 10, delta: 1e-5 }, ownerLedger(owner, taskQueue));
      const results = await Promise.allSettled(Array.from({ length: 50 }, (_, i) => reserve(store, key, { jobId: `job-${i}`, epsilon: 1, delta: 1e-8 })));
      const ok = results.filter((r) => r.status === 'fulfilled');
      const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      assert.equal(ok.length, 10);
      assert.equal(refused.length, 40);
      for (const r of refused) {
        assert.ok(r.reason instanceof ApplicationFailure, String(r.reason));
        assert.equal(r.reason.type, LedgerErrorType.BudgetExhausted);
        assert.match(r.reason.message, /^requested ε=1 but only ε=0 remains of 10 for analyst race-/);
      }
      const b = await readBalance(store, key);
      assert.deepEqual(b.reserved, { epsilon: 10, delta: 1e-7 });
      assert.equal(b.remaining.epsilon, 0);
      assert.equal(b.reservations.total, 10);
      // One record per change that took effect: the grant and the ten reservations.
      assert.equal((await store.listObjects(`${ledgerPrefix(key.dataset, key.analyst)}/`)).length, 11);
    });
  });

  it('is idempotent by job id: same reservation again, commit twice is a no-op, conflicts are refused', async () => {
    await withLight(async ({ client, taskQueue }) => {
      const key = await freshKey('idem');
      await grantBudget(client, { ...key, epsilon: 5, delta: 1e-5 }, ownerLedger(owner, taskQueue));
      const a = await reserve(store, key, { jobId: 'job-a', epsilon: 2, delta: 1e-6 });
      assert.deepEqual(await reserve(store, key, { jobId: 'job-a', epsilon: 2, delta: 1e-6 }), a);
      await refusal(reserve(store, key, { jobId: 'job-a', epsilon: 3, delta: 1e-6 }), LedgerErrorType.ReservationConflict);
      const c1 = await commit(store, key, { jobId: 'job-a', epsilonSpent: 1.5 });
      assert.deepEqual(await commit(store, key, { jobId: 'job-a', epsilonSpent: 1.5 }), c1);
      await refusal(commit(store, key, { jobId: 'job-a', epsilonSpent: 1 }), LedgerErrorType.ReservationConflict);
      await refusal(release(store, key, { jobId: 'job-a' }), LedgerErrorType.InvalidTransition);
      await refusal(commit(store, key, { jobId: 'never-reserved', epsilonSpent: 1 }), LedgerErrorType.UnknownJob);
      assert.equal((await readBalance(store, key)).committed.epsilon, 1.5);
    });
  });

  it("sums a dataset's spend over every analyst's ledger", async () => {
    await withLight(async ({ client, taskQueue }) => {
      const [a, b] = [await freshKey('spend-a'), await freshKey('spend-b')];
      for (const key of [a, b]) await grantBudget(client, { ...key, epsilon: 5, delta: 1e-5 }, ownerLedger(owner, taskQueue));
      await reserve(store, a, { jobId: 'j', epsilon: 2, delta: 1e-6 });
      await commit(store, a, { jobId: 'j', epsilonSpent: 1.5 });
      await reserve(store, b, { jobId: 'j', epsilon: 1, delta: 1e-6 });
      const spend = await datasetSpend(client, dataset, { taskQueue });
      const mine = spend.ledgers.filter((l) => l.analyst === a.analyst || l.analyst === b.analyst);
      assert.deepEqual(mine.map((l) => [l.analyst, l.committed.epsilon, l.reserved.epsilon]).sort(), [[a.analyst, 1.5, 0], [b.analyst, 0, 1]].sort());
      const total = spend.ledgers.reduce((t, l) => t + l.committed.epsilon, 0);
      assert.ok(Math.abs(spend.committed.epsilon - total) < 1e-9 && spend.committed.epsilon >= 1.5);
    });
  });

  it('reads an unused ledger as empty without writing anything', async () => {
    const key = await freshKey('unused');
    assert.deepEqual((await readBalance(store, key)).granted, { epsilon: 0, delta: 0 });
    assert.equal(await readReservation(store, { ...key, jobId: 'x' }), null);
    assert.deepEqual(await store.listObjects(`${ledgerPrefix(key.dataset, key.analyst)}/`), []);
  });

  it('refuses a record that Veil\'s workers did not write (no service key): the ledger reads as corrupted, never as a bigger grant', async () => {
    await withLight(async ({ client, taskQueue }) => {
      const key = await freshKey('forged');
      await grantBudget(client, { ...key, epsilon: 1, delta: 1e-5 }, ownerLedger(owner, taskQueue));
      // Someone with write access to the bucket but not the service key appends a generous record.
      const prefix = ledgerPrefix(key.dataset, key.analyst);
      const first = JSON.parse((await store.getRawBuffer(ledgerRecordKey(prefix, 1))).toString('utf8')) as { state: { grant: { epsilon: number } } };
      const forged = { ...first, seq: 2, state: { ...first.state, grant: { epsilon: 1000, delta: 0.5 } }, mac: 'A'.repeat(43) };
      await store.putJsonImmutable(ledgerRecordKey(prefix, 2), forged);
      await refusal(readBalance(store, key), LedgerErrorType.Corrupted);
      await refusal(reserve(store, key, { jobId: 'j', epsilon: 500, delta: 1e-6 }), LedgerErrorType.Corrupted);
    });
  });
});

describe('who may grant (signed by the dataset owner, real servers)', () => {
  it('takes grants only from the dataset owner, and never from an analyst or another owner', async () => {
    await withLight(async ({ client, taskQueue }) => {
      const key = await freshKey('grantee');
      const intruder = await newOwner('other-owner');
      const someAnalyst = await newAnalyst('greedy');
      const byIntruder = await refusal(grantBudget(client, { ...key, epsilon: 100, delta: 0.1 }, ownerLedger(intruder, taskQueue)), LedgerErrorType.Unauthorized);
      assert.match(byIntruder.message, /does not own dataset/);
      const byAnalyst = await refusal(grantBudget(client, { ...key, epsilon: 100, delta: 0.1 }, ownerLedger(someAnalyst, taskQueue)), LedgerErrorType.Unauthorized);
      assert.match(byAnalyst.message, /only the dataset's owner/);
      // A made-up token (right shape, wrong secret) does not verify.
      const forged = { id: owner.id, token: `veil1.${owner.id}.${'A'.repeat(43)}` };
      const byForger = await refusal(grantBudget(client, { ...key, epsilon: 100, delta: 0.1 }, ownerLedger(forged, taskQueue)), LedgerErrorType.Unauthorized);
      assert.match(byForger.message, /signature does not verify/);
      // Budgets go to analysts only.
      await refusal(grantBudget(client, { dataset, analyst: intruder.id, epsilon: 1, delta: 0 }, ownerLedger(owner, taskQueue)), LedgerErrorType.Unauthorized);
      assert.equal((await readBalance(store, key)).granted.epsilon, 0, 'no refused grant took effect');
    });
  });

  it('applies grants in the order they were signed: an old signed grant cannot be replayed, a changed one does not verify', async () => {
    await withLight(async ({ client, taskQueue }) => {
      const grantOpts: SignedCallOptions = ownerLedger(owner, taskQueue);
      const key = await freshKey('replay');
      const generous = { ...key, epsilon: 10, delta: 1e-5, issuedAt: Date.now() };
      const auth = await grantOpts.signer('grant', generous);
      await grantBudget(client, { ...key, epsilon: 1, delta: 1e-5 }, grantOpts);
      await grantBudget(client, { ...key, epsilon: 2, delta: 1e-5 }, grantOpts);
      const run = (input: object) =>
        client.workflow.execute('grantBudget', { taskQueue, workflowId: `grant-${randomUUID()}`, args: [input] }).then(
          () => assert.fail('applied'),
          (e: unknown) => e,
        );
      // The owner's generous grant, signed earlier, arrives after a stricter one was applied.
      const stale = (await run({ ...generous, auth })) as { cause?: { cause?: unknown } };
      assert.equal((stale.cause?.cause as ApplicationFailure | undefined)?.type, LedgerErrorType.StaleGrant);
      // Tampering with a signed grant's amount breaks its signature.
      const fresh = { ...key, epsilon: 3, delta: 1e-5, issuedAt: Date.now() + 1000 };
      const tampered = (await run({ ...fresh, epsilon: 30, auth: await grantOpts.signer('grant', fresh) })) as { cause?: { cause?: unknown } };
      assert.equal((tampered.cause?.cause as ApplicationFailure | undefined)?.type, 'Unauthenticated');
      assert.equal((await readBalance(store, key)).granted.epsilon, 2);
    });
  });
});
