// The RDP accountant equals Opacus's RDPAccountant (fixture from Opacus 1.6): same ε to 1e-6
// relative (in practice ~1e-10) and the same optimal order, for single and resumed runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RdpAccountant, OPACUS_DEFAULT_ORDERS, subsampledGaussianRdp } from '../../engine/privacy/index.ts';
import { reference, caseName } from './reference-fixture.ts';

const RELATIVE_TOLERANCE = 1e-6;

function assertClose(actual: number, expected: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= RELATIVE_TOLERANCE * Math.abs(expected), `${what}: Veil ${actual}, Opacus ${expected}`);
}

void test('fixture spans the ranges the issue asks for', () => {
  const cases = reference.single;
  assert.ok(cases.length >= 100, `${cases.length} cases`);
  const span = (key: 'sampleRate' | 'noiseMultiplier' | 'steps' | 'delta'): [number, number] => [Math.min(...cases.map((c) => c[key])), Math.max(...cases.map((c) => c[key]))];
  assert.deepEqual(span('sampleRate'), [1e-4, 1]);
  assert.deepEqual(span('noiseMultiplier'), [0.5, 10]);
  assert.deepEqual(span('steps'), [1, 1e5]);
  assert.deepEqual(span('delta'), [1e-7, 1e-3]);
});

void test('Opacus default orders: 1.1 … 10.9 and 12 … 63', () => {
  assert.equal(OPACUS_DEFAULT_ORDERS.length, 151);
  assert.equal(OPACUS_DEFAULT_ORDERS[0], 1.1);
  assert.equal(OPACUS_DEFAULT_ORDERS[98], 10.9);
  assert.equal(OPACUS_DEFAULT_ORDERS[99], 12);
  assert.equal(OPACUS_DEFAULT_ORDERS.at(-1), 63);
});

void test(`single runs: ε equals Opacus to ${RELATIVE_TOLERANCE} relative, same order (${reference.single.length} cases)`, () => {
  for (const c of reference.single) {
    const accountant = new RdpAccountant();
    accountant.step(c.sampleRate, c.noiseMultiplier, c.steps);
    const spent = accountant.privacySpent(c.delta);
    assertClose(spent.epsilon, c.rdp.epsilon, caseName(c));
    assert.equal(spent.order, c.rdp.order, `${caseName(c)}: order`);
  }
});

void test('heterogeneous (resumed) runs: ε equals Opacus', () => {
  for (const c of reference.heterogeneous) {
    const accountant = new RdpAccountant();
    for (const s of c.history) accountant.step(s.sampleRate, s.noiseMultiplier, s.steps);
    assertClose(accountant.epsilon(c.delta), c.rdp.epsilon, JSON.stringify(c.history));
  }
});

void test('the pruned minimum over orders equals the full one', () => {
  for (const c of reference.single.filter((_, i) => i % 4 === 0)) {
    const accountant = new RdpAccountant();
    accountant.step(c.sampleRate, c.noiseMultiplier, c.steps);
    const lazy = accountant.privacySpent(c.delta);
    const eager = new RdpAccountant();
    eager.step(c.sampleRate, c.noiseMultiplier, c.steps);
    assert.deepEqual(lazy, eager.privacySpent(c.delta, { eager: true }), caseName(c));
  }
});

void test('RDP per step: closed form at q = 1, non-decreasing in the order, increasing in q', () => {
  assert.equal(subsampledGaussianRdp(1, 2, 3.5), 3.5 / 8);
  for (const [q, sigma] of [[0.01, 1], [0.3, 0.7], [1e-4, 5]]) {
    let previous = 0;
    for (const order of OPACUS_DEFAULT_ORDERS) {
      const rdp = subsampledGaussianRdp(q, sigma, order);
      assert.ok(rdp >= previous * (1 - 1e-12), `q=${q} σ=${sigma}: rdp(${order}) = ${rdp} < ${previous}`);
      previous = rdp;
    }
    assert.ok(subsampledGaussianRdp(q * 0.9, sigma, 4.5) < subsampledGaussianRdp(q, sigma, 4.5));
  }
});

void test('steps compose: n steps in one call = n calls of one step; merged history', () => {
  const a = new RdpAccountant();
  a.step(0.02, 1.1, 50);
  const b = new RdpAccountant();
  for (let i = 0; i < 50; i++) b.step(0.02, 1.1);
  assert.equal(a.epsilon(1e-5), b.epsilon(1e-5));
  assert.deepEqual(b.history, [{ sampleRate: 0.02, noiseMultiplier: 1.1, steps: 50 }]);
  assert.equal(new RdpAccountant().epsilon(1e-5), 0);
  assert.ok(a.epsilon(1e-5) < a.epsilon(1e-6), 'smaller δ costs more ε');
});
