// The ledger's rules without Temporal: budget arithmetic, messages, idempotency, id encoding.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ApplicationFailure } from '@temporalio/common';
import { LedgerErrorType } from '../../contracts/ledger.ts';
import { ledgerPrefix } from '../../infra/storage/index.ts';
import {
  applyCommit,
  applyGrant,
  applyRelease,
  applyReserve,
  balanceOf,
  checkCommit,
  checkGrant,
  checkReserve,
  emptyLedgerState,
} from '../../activities/budget/rules.ts';

/** Grants are applied in increasing issuedAt: each test grant is issued after the one before. */
let lastIssued = 1_700_000_000_000;
const issued = (): number => ++lastIssued;

const T = '2025-01-01T00:00:00.000Z';

function refusedWith(fn: () => unknown, type: LedgerErrorType): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ApplicationFailure, String(err));
    assert.equal(err.type, type, err.message);
    assert.equal(err.nonRetryable, true);
    return err.message;
  }
  return assert.fail(`expected a ${type} refusal`);
}

describe('ledger rules', () => {
  it('states the requested ε and what remains of both ε and δ when ε is exhausted', () => {
    const s = emptyLedgerState('notes', 'alice');
    applyGrant(s, { epsilon: 8, delta: 1e-5, issuedAt: issued() }, T);
    applyReserve(s, { jobId: 'a', epsilon: 4, delta: 1e-6 }, T);
    applyReserve(s, { jobId: 'b', epsilon: 3, delta: 1e-6 }, T);
    applyCommit(s, { jobId: 'b', epsilonSpent: 2.75 }, T);
    const message = refusedWith(() => checkReserve(s, { jobId: 'c', epsilon: 3, delta: 1e-6 }), LedgerErrorType.BudgetExhausted);
    assert.equal(message, 'requested ε=3 but only ε=1.25 remains of 8 for analyst alice on dataset notes (δ=0.000008 remains of 0.00001)');
    assert.doesNotMatch(message, /--delta/, 'no δ hint when ε is what ran out');
  });

  it('refuses on δ as well as ε (basic composition adds both)', () => {
    const s = emptyLedgerState('notes', 'bob');
    applyGrant(s, { epsilon: 100, delta: 1e-5, issuedAt: issued() }, T);
    for (let i = 0; i < 10; i++) applyReserve(s, { jobId: `j${i}`, epsilon: 1, delta: 1e-6 }, T);
    const message = refusedWith(() => applyReserve(s, { jobId: 'j10', epsilon: 1, delta: 1e-6 }, T), LedgerErrorType.BudgetExhausted);
    assert.match(message, /^requested δ=0\.000001 but only δ=0 remains of 0\.00001 for analyst bob on dataset notes \(ε=90 remains of 100\); /);
    // Which flag or field changes the per-job δ, in every way a fine-tune is asked for.
    for (const hint of ['1/N^1.1', '`veil finetune --delta`', '`veil schedule create --delta`', 'training.delta', 'client.eval(model, { targetEpsilon, delta })']) {
      assert.ok(message.includes(hint), `the refusal mentions ${hint}: ${message}`);
    }
    assert.deepEqual(balanceOf(s).reserved, { epsilon: 10, delta: 1e-5 });
  });

  it('lets decimal amounts fill a budget exactly despite binary floating point', () => {
    const s = emptyLedgerState('d', 'a');
    applyGrant(s, { epsilon: 1, delta: 0, issuedAt: issued() }, T);
    for (let i = 0; i < 10; i++) applyReserve(s, { jobId: `j${i}`, epsilon: 0.1, delta: 0 }, T);
    refusedWith(() => checkReserve(s, { jobId: 'j10', epsilon: 1e-6, delta: 0 }), LedgerErrorType.BudgetExhausted);
    const b = balanceOf(s);
    assert.equal(b.reserved.epsilon, 1);
    assert.equal(b.remaining.epsilon, 0);
  });

  it('checks without mutating, and repeats a reservation instead of charging it twice', () => {
    const s = emptyLedgerState('d', 'a');
    applyGrant(s, { epsilon: 5, delta: 1e-5, issuedAt: issued() }, T);
    const before = structuredClone(s);
    checkReserve(s, { jobId: 'x', epsilon: 1, delta: 0 });
    checkGrant(s, { epsilon: 9, delta: 0, issuedAt: issued() });
    assert.deepEqual(s, before);
    const r = applyReserve(s, { jobId: 'x', epsilon: 1, delta: 0 }, T);
    assert.equal(applyReserve(s, { jobId: 'x', epsilon: 1, delta: 0 }, '2030-01-01T00:00:00.000Z'), r);
    assert.equal(balanceOf(s).reserved.epsilon, 1);
    refusedWith(() => applyReserve(s, { jobId: 'x', epsilon: 1, delta: 1e-6 }, T), LedgerErrorType.ReservationConflict);
  });

  it('charges at most the reservation and keeps a committed charge', () => {
    const s = emptyLedgerState('d', 'a');
    applyGrant(s, { epsilon: 1, delta: 1e-5, issuedAt: issued() }, T);
    applyReserve(s, { jobId: 'x', epsilon: 0.1 + 0.2, delta: 1e-6 }, T);
    refusedWith(() => checkCommit(s, { jobId: 'x', epsilonSpent: 0.31 }), LedgerErrorType.ExceedsReservation);
    refusedWith(() => checkCommit(s, { jobId: 'x', epsilonSpent: 0.1, deltaSpent: 2e-6 }), LedgerErrorType.ExceedsReservation);
    const c = applyCommit(s, { jobId: 'x', epsilonSpent: 0.3 }, T);
    assert.deepEqual([c.state, c.epsilonSpent, c.deltaSpent], ['committed', 0.3, 1e-6]);
    refusedWith(() => applyRelease(s, { jobId: 'x' }, T), LedgerErrorType.InvalidTransition);
    refusedWith(() => applyCommit(s, { jobId: 'nope', epsilonSpent: 0 }, T), LedgerErrorType.UnknownJob);
    assert.deepEqual(balanceOf(s).reservations, { total: 1, reserved: 0, committed: 1, released: 0 });
  });

  it('refuses malformed and non-finite amounts, and unlimited ε', () => {
    const s = emptyLedgerState('d', 'a');
    applyGrant(s, { epsilon: 5, delta: 1e-5, issuedAt: issued() }, T);
    for (const bad of [0, -1, null, '1', undefined]) {
      refusedWith(() => checkReserve(s, { jobId: 'x', epsilon: bad, delta: 0 }), LedgerErrorType.InvalidArgument);
    }
    refusedWith(() => checkReserve(s, { jobId: 'x', epsilon: 1, delta: 1 }), LedgerErrorType.InvalidArgument);
    refusedWith(() => checkReserve(s, { jobId: '', epsilon: 1, delta: 0 }), LedgerErrorType.InvalidArgument);
    refusedWith(() => checkReserve(s, null), LedgerErrorType.InvalidArgument);
    const m = refusedWith(() => checkReserve(s, { jobId: 'x', epsilon: 'unlimited', delta: 0 }), LedgerErrorType.InvalidArgument);
    assert.match(m, /finite budgets only/);
  });

  it('refuses lowering the grant below what is committed and reserved', () => {
    const s = emptyLedgerState('d', 'a');
    applyGrant(s, { epsilon: 5, delta: 1e-5, issuedAt: issued() }, T);
    applyReserve(s, { jobId: 'x', epsilon: 2, delta: 1e-6 }, T);
    applyReserve(s, { jobId: 'y', epsilon: 1, delta: 1e-6 }, T);
    applyCommit(s, { jobId: 'y', epsilonSpent: 0.5 }, T);
    refusedWith(() => checkGrant(s, { epsilon: 2.4, delta: 1e-5, issuedAt: issued() }), LedgerErrorType.GrantBelowUsage);
    refusedWith(() => checkGrant(s, { epsilon: 5, delta: 1e-6, issuedAt: issued() }), LedgerErrorType.GrantBelowUsage);
    assert.deepEqual(applyGrant(s, { epsilon: 2.5, delta: 2e-6, issuedAt: issued() }, T).remaining, { epsilon: 0, delta: 0 });
  });

  it('applies grants in signing order: a repeat is a no-op, an older one is stale', () => {
    const s = emptyLedgerState('d', 'a');
    const first = { epsilon: 5, delta: 1e-5, issuedAt: issued() };
    const later = { epsilon: 2, delta: 1e-5, issuedAt: issued() };
    applyGrant(s, first, T);
    applyGrant(s, later, T);
    assert.equal(applyGrant(s, later, T).granted.epsilon, 2, 'the same signed grant again changes nothing');
    refusedWith(() => applyGrant(s, first, T), LedgerErrorType.StaleGrant);
    refusedWith(() => applyGrant(s, { ...later, epsilon: 3 }, T), LedgerErrorType.StaleGrant);
    refusedWith(() => checkGrant(s, { epsilon: 1, delta: 0 }), LedgerErrorType.InvalidArgument);
    assert.equal(balanceOf(s).granted.epsilon, 2);
  });

  it('treats job ids that name Object.prototype members as plain ids', () => {
    const s = emptyLedgerState('d', 'a');
    applyGrant(s, { epsilon: 5, delta: 1e-5, issuedAt: issued() }, T);
    refusedWith(() => checkCommit(s, { jobId: 'constructor', epsilonSpent: 0 }), LedgerErrorType.UnknownJob);
    applyReserve(s, { jobId: '__proto__', epsilon: 1, delta: 0 }, T);
    applyReserve(s, { jobId: 'constructor', epsilon: 1, delta: 0 }, T);
    assert.equal(Object.getPrototypeOf(s.reservations), Object.prototype);
    const roundTripped = JSON.parse(JSON.stringify(s)) as typeof s;
    assert.deepEqual(balanceOf(roundTripped).reservations, { total: 2, reserved: 2, committed: 0, released: 0 });
    assert.equal(applyCommit(roundTripped, { jobId: '__proto__', epsilonSpent: 1 }, T).state, 'committed');
  });

  it('keeps each (dataset, analyst) ledger under its own S3 prefix, one-to-one', () => {
    assert.equal(ledgerPrefix('notes', 'alice@example.org'), 'ledger/notes/alice=example.org');
    const analysts = ['alice@example.org', 'alice.example.org', 'alice-example.org', 'alice_example.org'];
    assert.equal(new Set(analysts.map((a) => ledgerPrefix('notes', a))).size, analysts.length);
    for (const bad of ['a/b', '..', '', 'a b']) assert.throws(() => ledgerPrefix(bad, 'alice'), TypeError);
    assert.throws(() => ledgerPrefix('notes', 'a/b'), TypeError);
  });
});
