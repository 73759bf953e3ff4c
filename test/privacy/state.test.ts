// Accountant state is plain JSON (it goes into checkpoints): a restored accountant reports the
// same ε, a run resumed from a checkpoint with another batch size equals the references for the
// whole run, and corrupt state is refused with an error naming the field.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { accountantFromJSON, PrivacyInputError, PrvAccountant, RdpAccountant } from '../../engine/privacy/index.ts';
import { reference } from './reference-fixture.ts';

const throughJson = (value: unknown): unknown => JSON.parse(JSON.stringify(value));

void test('RDP and PRV accountants survive a JSON round trip with identical ε', () => {
  const rdp = new RdpAccountant();
  rdp.step(1 / 2608, 0.8, 3000);
  rdp.step(2 / 2608, 0.8, 100);
  const restoredRdp = accountantFromJSON(throughJson(rdp.toJSON()));
  assert.ok(restoredRdp instanceof RdpAccountant);
  assert.deepEqual(restoredRdp.history, rdp.history);
  assert.equal(restoredRdp.epsilon(1e-5), rdp.epsilon(1e-5));

  const prv = new PrvAccountant({ epsilonError: 0.05 });
  prv.step(0.01, 1.2, 500);
  const restoredPrv = accountantFromJSON(throughJson(prv.toJSON()));
  assert.ok(restoredPrv instanceof PrvAccountant);
  assert.equal(restoredPrv.epsilonError, 0.05);
  assert.deepEqual(restoredPrv.bounds(1e-6), prv.bounds(1e-6));
  assert.deepEqual(prv.toJSON(), { accountant: 'prv', version: 1, history: [{ sampleRate: 0.01, noiseMultiplier: 1.2, steps: 500 }], epsilonError: 0.05, deltaErrorRatio: 1e-3 });
});

void test('a run checkpointed after its first phase and resumed with another batch size equals the references', () => {
  const c = reference.heterogeneous[0];
  assert.ok(c.history.length === 3 && c.prv !== null);
  const [first, ...rest] = c.history;
  for (const make of [() => new RdpAccountant(), () => new PrvAccountant()]) {
    const before = make();
    before.step(first.sampleRate, first.noiseMultiplier, first.steps);
    const checkpoint = JSON.stringify(before.toJSON());
    const resumed = accountantFromJSON(JSON.parse(checkpoint));
    for (const s of rest) resumed.step(s.sampleRate, s.noiseMultiplier, s.steps);
    const epsilon = resumed.epsilon(c.delta);
    if (resumed.kind === 'rdp') assert.ok(Math.abs(epsilon - c.rdp.epsilon) <= 1e-6 * c.rdp.epsilon, `rdp ${epsilon} vs ${c.rdp.epsilon}`);
    else assert.ok(epsilon >= c.prv.lower && epsilon <= c.prv.upper + 0.01, `prv ${epsilon} vs [${c.prv.lower}, ${c.prv.upper}]`);
  }
});

void test('custom RDP orders are kept in the state; default ones are not written', () => {
  assert.equal('orders' in new RdpAccountant().toJSON(), false);
  const custom = new RdpAccountant({ orders: [2, 4, 8, 16] });
  custom.step(0.1, 1, 10);
  const restored = RdpAccountant.fromJSON(throughJson(custom.toJSON()));
  assert.deepEqual(restored.orders, [2, 4, 8, 16]);
  assert.equal(restored.epsilon(1e-5), custom.epsilon(1e-5));
});

void test('corrupt state is refused with a PrivacyInputError naming the field', () => {
  const cases: [unknown, string][] = [
    [null, 'state'],
    [{ accountant: 'pld', version: 1, history: [] }, 'state.accountant'],
    [{ accountant: 'rdp', version: 2, history: [] }, 'state.version'],
    [{ accountant: 'rdp', version: 1, history: {} }, 'state.history'],
    [{ accountant: 'rdp', version: 1, history: [{ sampleRate: 2, noiseMultiplier: 1, steps: 1 }] }, 'state.history[0].sampleRate'],
    [{ accountant: 'rdp', version: 1, history: [{ sampleRate: 0.1, noiseMultiplier: 1, steps: 1 }, { sampleRate: 0.1, noiseMultiplier: 1 }] }, 'state.history[1].steps'],
    [{ accountant: 'prv', version: 1, history: [], epsilonError: -1, deltaErrorRatio: 1e-3 }, 'state.epsilonError'],
    [{ accountant: 'rdp', version: 1, history: [], orders: ['a'] }, 'state.orders'],
  ];
  for (const [state, argument] of cases) {
    assert.throws(() => accountantFromJSON(state), (err: unknown) => err instanceof PrivacyInputError && err.argument === argument && err.exitCode === 2, `${JSON.stringify(state)} → ${argument}`);
  }
});
