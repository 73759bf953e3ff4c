// The PRV accountant's parts: the privacy loss distribution of the subsampled Gaussian, its
// mean (Kullback–Leibler divergence, known in closed form at q = 1 and asymptotically for small
// q), the mean-preserving discretisation, and FFT composition (mass and mean add up).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SubsampledGaussianPrv } from '../../engine/privacy/prv-distribution.ts';
import { compose, discretise, epsilonsForDeltas } from '../../engine/privacy/prv-discrete.ts';
import { choosePrvDomain } from '../../engine/privacy/prv-domain.ts';

const sum = (xs: Float64Array): number => xs.reduce((a, b) => a + b, 0);
const gridMean = (pmf: Float64Array, zeroIndex: number, mesh: number, shift: number): number => pmf.reduce((acc, p, i) => acc + p * ((i - zeroIndex) * mesh + shift), 0);

void test('tails are complementary, monotone, and start at log(1 − q)', () => {
  const prv = new SubsampledGaussianPrv(0.01, 0.8);
  assert.deepEqual(prv.tails(Math.log(0.99) - 1e-9), { below: 0, above: 1 });
  let previous = 0;
  for (let t = -0.009; t < 30; t += 0.37) {
    const { below, above } = prv.tails(t);
    assert.ok(Math.abs(below + above - 1) < 1e-15, `t=${t}`);
    assert.ok(below >= previous);
    previous = below;
  }
  // Far tail: P(Y > t) stays accurate where 1 − P(Y ≤ t) would be 0.
  const far = prv.tails(40).above;
  assert.ok(far > 0 && far < 1e-20, `P(Y > 40) = ${far}`);
});

void test('the mean of the PRV is the KL divergence: 1/(2σ²) at q = 1, ≈ q²(e^{1/σ²} − 1)/2 for small q', () => {
  for (const sigma of [0.5, 1, 3]) {
    const mean = new SubsampledGaussianPrv(1, sigma).truncatedMean(-1000, 1000);
    assert.ok(Math.abs(mean - 1 / (2 * sigma * sigma)) < 1e-13, `σ=${sigma}: ${mean}`);
  }
  const q = 1e-4;
  const mean = new SubsampledGaussianPrv(q, 1).truncatedMean(-1, 100);
  const asymptotic = (q * q * Math.expm1(1)) / 2;
  assert.ok(Math.abs(mean - asymptotic) < 1e-3 * asymptotic, `${mean} vs ${asymptotic}`);
});

void test('discretisation: unit mass, non-negative, and the shifted grid has the exact mean', () => {
  for (const [q, sigma, steps] of [[0.01, 1, 1000], [1, 2, 10], [1e-4, 0.5, 300], [0.3, 5, 1]]) {
    const groups = [{ sampleRate: q, noiseMultiplier: sigma, steps, key: '' }];
    const domain = choosePrvDomain(groups, 0.01, 1e-8);
    const prv = new SubsampledGaussianPrv(q, sigma);
    const part = discretise(prv, domain);
    assert.ok(Math.abs(sum(part.pmf) - 1) < 1e-13);
    assert.ok(part.pmf.every((p) => p >= 0));
    assert.ok(Math.abs(part.shift) < domain.mesh / 2);
    const first = -domain.zeroIndex * domain.mesh;
    const last = (domain.size - 1 - domain.zeroIndex) * domain.mesh;
    const exact = prv.truncatedMean(first, last);
    assert.ok(Math.abs(gridMean(part.pmf, domain.zeroIndex, domain.mesh, part.shift) - exact) < 1e-14 + 1e-12 * Math.abs(exact));
  }
});

void test('composition adds means and keeps unit mass; ε decreases as δ grows', () => {
  const groups = [{ sampleRate: 0.05, noiseMultiplier: 1, steps: 200, key: 'a' }, { sampleRate: 0.1, noiseMultiplier: 2, steps: 50, key: 'b' }];
  const domain = choosePrvDomain(groups, 0.01, 1e-9);
  const parts = groups.map((g) => discretise(new SubsampledGaussianPrv(g.sampleRate, g.noiseMultiplier), domain));
  const composed = compose(parts, [200, 50], domain);
  assert.ok(Math.abs(sum(composed.pmf) - 1) < 1e-10);
  const expectedMean = 200 * gridMean(parts[0].pmf, domain.zeroIndex, domain.mesh, parts[0].shift) + 50 * gridMean(parts[1].pmf, domain.zeroIndex, domain.mesh, parts[1].shift);
  const mean = gridMean(composed.pmf, domain.zeroIndex, domain.mesh, composed.shift);
  assert.ok(Math.abs(mean - expectedMean) < 1e-8, `${mean} vs ${expectedMean}`);
  const [e1, e2, e3] = epsilonsForDeltas(composed, domain, [1e-7, 1e-6, 1e-5]);
  assert.ok(e1 > e2 && e2 > e3 && e3 > 0, `${e1} ${e2} ${e3}`);
});
