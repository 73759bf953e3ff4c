// The PRV accountant against Microsoft's prv_accountant and Opacus's PRVAccountant (same
// ε_error = 0.01, δ_error = δ/1000). Each reference brackets the true ε by [lower, upper], an
// interval of width ≈ 2·ε_error: that is the reference's own error. So we require
//   - our upper bound ≥ the reference's lower bound (we never claim less ε than is provably spent),
//   - our upper bound ≤ the reference's upper bound + ε_error (no looser than its error allows),
//   - our estimate within ε_error of the reference's estimate, our upper within ε_error of Opacus's.
// The same algorithm on the same grid agrees far closer (1e-9 … 1e-4, the rest being FFT
// round-off amplified by up to 1e5 compositions); the largest gap is printed.
// Independently of any reference: at q = 1 the run is one Gaussian mechanism with μ = √k/σ, whose
// exact ε follows from δ(ε) = Φ(μ/2 − ε/μ) − e^ε·Φ(−μ/2 − ε/μ), and must lie in [lower, upper].
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PrvAccountant } from '../../engine/privacy/index.ts';
import { logNormalCdf } from '../../engine/privacy/erfc.ts';
import { reference, caseName, type PrvReference, type RunSegment } from './reference-fixture.ts';

const EPSILON_ERROR = reference.prvSettings.epsilonError;

function check(bounds: { lower: number; estimate: number; upper: number }, ref: PrvReference, what: string): number {
  const refLower = Math.max(0, ref.lower);
  assert.ok(bounds.upper >= refLower, `${what}: our upper ${bounds.upper} < reference lower ${refLower}`);
  assert.ok(bounds.upper <= ref.upper + EPSILON_ERROR, `${what}: our upper ${bounds.upper} > reference upper ${ref.upper} + ${EPSILON_ERROR}`);
  assert.ok(Math.abs(bounds.estimate - Math.max(0, ref.estimate)) <= EPSILON_ERROR, `${what}: estimate ${bounds.estimate} vs ${ref.estimate}`);
  assert.ok(Math.abs(bounds.upper - Math.max(0, ref.opacusUpper)) <= EPSILON_ERROR, `${what}: upper ${bounds.upper} vs Opacus ${ref.opacusUpper}`);
  return Math.abs(bounds.estimate - Math.max(0, ref.estimate));
}

function boundsOf(history: RunSegment[], delta: number): ReturnType<PrvAccountant['bounds']> {
  const accountant = new PrvAccountant({ epsilonError: EPSILON_ERROR, deltaErrorRatio: reference.prvSettings.deltaErrorRatio });
  for (const s of history) accountant.step(s.sampleRate, s.noiseMultiplier, s.steps);
  return accountant.bounds(delta);
}

/** Exact ε of the Gaussian mechanism with parameter μ at δ (Balle and Wang 2018), by bisection. */
function gaussianEpsilon(mu: number, delta: number): number {
  const deltaAt = (eps: number): number => Math.exp(logNormalCdf(mu / 2 - eps / mu)) - Math.exp(eps + logNormalCdf(-mu / 2 - eps / mu));
  let lo = 0;
  let hi = 1;
  while (deltaAt(hi) > delta) hi *= 2;
  if (deltaAt(0) <= delta) return 0;
  for (let i = 0; i < 200; i++) {
    const mid = (lo + hi) / 2;
    if (deltaAt(mid) > delta) lo = mid;
    else hi = mid;
  }
  return hi;
}

const withPrv = reference.single.filter((c) => c.prv !== null);

void test(`single runs: bounds agree with prv_accountant and Opacus within ε_error (${withPrv.length} cases)`, () => {
  assert.ok(withPrv.length >= 100, `${withPrv.length} cases with a PRV reference`);
  let largestGap = 0;
  for (const c of withPrv) {
    const bounds = boundsOf([c], c.delta);
    assert.equal(bounds.epsilonError, EPSILON_ERROR, `${caseName(c)}: grid was capped`);
    largestGap = Math.max(largestGap, check(bounds, c.prv as PrvReference, caseName(c)));
    // Tight: never worse than RDP beyond the PRV's own error.
    assert.ok(bounds.upper <= c.rdp.epsilon + 2 * EPSILON_ERROR, `${caseName(c)}: PRV ${bounds.upper} > RDP ${c.rdp.epsilon}`);
  }
  console.log(`largest |estimate − prv_accountant estimate|: ${largestGap.toExponential(2)}`);
});

void test('heterogeneous (resumed) runs: bounds agree with the references', () => {
  for (const c of reference.heterogeneous.filter((h) => h.prv !== null)) {
    check(boundsOf(c.history, c.delta), c.prv as PrvReference, JSON.stringify(c.history));
  }
});

void test('q = 1: the exact Gaussian-mechanism ε lies within [lower, upper]', () => {
  const cases = [
    { sampleRate: 1, noiseMultiplier: 0.5, steps: 1, delta: 1e-7 },
    { sampleRate: 1, noiseMultiplier: 2, steps: 10, delta: 1e-6 },
    { sampleRate: 1, noiseMultiplier: 10, steps: 1000, delta: 1e-5 },
    { sampleRate: 1, noiseMultiplier: 7, steps: 3, delta: 1e-3 },
    ...reference.single.filter((c) => c.sampleRate === 1 && c.prv !== null && c.steps <= 2000),
  ];
  for (const c of cases) {
    const bounds = boundsOf([c], c.delta);
    const exact = gaussianEpsilon(Math.sqrt(c.steps) / c.noiseMultiplier, c.delta);
    assert.ok(bounds.lower <= exact && exact <= bounds.upper, `${caseName(c)}: exact ${exact} outside [${bounds.lower}, ${bounds.upper}]`);
    assert.ok(Math.abs(bounds.estimate - exact) < EPSILON_ERROR, `${caseName(c)}: estimate ${bounds.estimate} vs exact ${exact}`);
  }
});

void test('more steps, more ε; larger ε_error, looser bound; empty run, zero', () => {
  const at = (steps: number): number => boundsOf([{ sampleRate: 0.01, noiseMultiplier: 1, steps }], 1e-5).upper;
  assert.ok(at(100) < at(1000) && at(1000) < at(3000));
  const loose = new PrvAccountant({ epsilonError: 0.1 });
  loose.step(0.01, 1, 1000);
  const tight = new PrvAccountant();
  tight.step(0.01, 1, 1000);
  const [b1, b2] = [loose.bounds(1e-5), tight.bounds(1e-5)];
  assert.ok(b1.upper - b1.lower > b2.upper - b2.lower);
  assert.ok(Math.abs(b1.estimate - b2.estimate) < 0.1);
  assert.equal(new PrvAccountant().epsilon(1e-5), 0);
});

void test('a grid beyond maxGridSize is coarsened: the bound stays above the truth, with the larger ε_error reported', () => {
  const accountant = new PrvAccountant({ maxGridSize: 2 ** 14 });
  accountant.step(1, 2, 400);
  const bounds = accountant.bounds(1e-5);
  assert.ok(bounds.gridSize <= 2 ** 14);
  assert.ok(bounds.epsilonError > 0.01);
  const exact = gaussianEpsilon(Math.sqrt(400) / 2, 1e-5);
  assert.ok(bounds.lower <= exact && exact <= bounds.upper, `exact ${exact} outside [${bounds.lower}, ${bounds.upper}]`);
});
