// Accounting of the synthetic twin against Google's dp-accounting (fixture from
// test/synthetic/fixtures/gdp_reference.py).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { gdpDelta, gdpMuFor, normalTail, normalTailInverse, releaseThreshold } from '../../engine/synthetic/gaussian-dp.ts';

interface Reference {
  tails: { x: number; tail: number }[];
  single: { sigma: number; epsilon: number; delta: number }[];
  composed: { sigmas: number[]; epsilon: number; pldDelta: number; equivalentDelta: number }[];
  muFor: { epsilon: number; delta: number; mu: number }[];
}
const reference = JSON.parse(readFileSync(new URL('./fixtures/gdp_reference.json', import.meta.url), 'utf8')) as Reference;

function assertRelative(actual: number, expected: number, tolerance: number, what: string): void {
  const scale = Math.max(Math.abs(expected), Number.MIN_VALUE);
  assert.ok(Math.abs(actual - expected) / scale <= tolerance, `${what}: ${actual} vs ${expected}`);
}

void test('normal tails match math.erfc far into the tail', () => {
  for (const { x, tail } of reference.tails) assertRelative(normalTail(x), tail, 1e-12, `tail(${x})`);
  for (const p of [0.3, 1e-3, 1e-9, 1e-15]) assertRelative(normalTail(normalTailInverse(p)), p, 1e-9, `inverse(${p})`);
});

void test('δ(ε) of one Gaussian mechanism matches dp-accounting', () => {
  for (const { sigma, epsilon, delta } of reference.single) {
    if (delta < 1e-30) assert.ok(gdpDelta(1 / sigma, epsilon) < 1e-30);
    else assertRelative(gdpDelta(1 / sigma, epsilon), delta, 1e-8, `σ=${sigma} ε=${epsilon}`);
  }
});

void test('composing Gaussian mechanisms is one Gaussian with μ² = Σ 1/σᵢ², as dp-accounting\'s PLD agrees', () => {
  for (const { sigmas, epsilon, pldDelta, equivalentDelta } of reference.composed) {
    const mu = Math.sqrt(sigmas.reduce((s, sigma) => s + 1 / sigma ** 2, 0));
    assertRelative(gdpDelta(mu, epsilon), equivalentDelta, 1e-8, `σ=${sigmas}`);
    assertRelative(gdpDelta(mu, epsilon), pldDelta, 2e-3, `PLD σ=${sigmas}`); // the PLD is discretised
  }
});

void test('μ for a target (ε, δ) matches, and never overshoots δ', () => {
  for (const { epsilon, delta, mu } of reference.muFor) {
    const ours = gdpMuFor(epsilon, delta);
    assertRelative(ours, mu, 1e-6, `ε=${epsilon} δ=${delta}`);
    assert.ok(gdpDelta(ours, epsilon) <= delta);
  }
});

void test('the release threshold bounds the chance that a key only one row has is released', () => {
  for (const [sigma, k, delta] of [[10, 16, 1e-8], [1, 1, 1e-6], [3, 32, 1e-9]] as const) {
    const t = releaseThreshold(sigma, k, delta);
    let worst = 0;
    for (let m = 1; m <= k; m++) worst = Math.max(worst, m * normalTail((t - 1 / Math.sqrt(m)) / sigma));
    assert.ok(worst <= delta * (1 + 1e-9), `σ=${sigma} k=${k}: ${worst}`);
    assert.ok(worst > delta * 0.99, 'the threshold is not needlessly high');
  }
});
