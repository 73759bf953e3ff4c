// The numerical building blocks: erfc and log Φ against scipy (what Opacus uses), log-space
// arithmetic, Gauss–Legendre quadrature, and the real FFT against a direct DFT.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { erfc, logErfc, logNormalCdf, normalCdf } from '../../engine/privacy/erfc.ts';
import { logAdd, logSub } from '../../engine/privacy/log-space.ts';
import { gaussLegendreNodes } from '../../engine/privacy/quadrature.ts';
import { RealFft } from '../../engine/privacy/fft.ts';
import { reference } from './reference-fixture.ts';

void test('erfc matches scipy.special.erfc to 1e-13 relative, including far tails', () => {
  for (const [x, expected] of reference.special.erfc) {
    const actual = erfc(x);
    if (expected === 0) assert.ok(actual < 1e-300, `erfc(${x}) = ${actual}, expected 0`);
    else assert.ok(Math.abs(actual - expected) <= 1e-13 * expected, `erfc(${x}) = ${actual}, scipy ${expected}`);
  }
});

void test('log Φ matches scipy.special.log_ndtr (relative 1e-12, absolute 1e-15 near 0)', () => {
  for (const [z, expected] of reference.special.logNormalCdf) {
    const actual = logNormalCdf(z);
    assert.ok(Math.abs(actual - expected) <= 1e-12 * Math.abs(expected) + 1e-15, `logNormalCdf(${z}) = ${actual}, scipy ${expected}`);
  }
});

void test('erfc identities: symmetry, Φ(x) + Φ(−x) = 1, log erfc finite past underflow', () => {
  for (const x of [0.1, 0.7, 1.9, 3.3, 5.2]) {
    assert.ok(Math.abs(erfc(-x) - (2 - erfc(x))) < 1e-15);
    assert.ok(Math.abs(normalCdf(x) + normalCdf(-x) - 1) < 1e-15);
  }
  assert.equal(erfc(0), 1);
  assert.equal(erfc(40), 0);
  // log erfc(40) = −1600 − log(40√π) − 1/(2·40²) + 5/(8·40⁴) − …: finite where erfc underflows.
  const expected = -1600 - Math.log(40 * Math.sqrt(Math.PI)) - 1 / 3200 + 5 / (8 * 1600 ** 2);
  assert.ok(Math.abs(logErfc(40) - expected) < 1e-9, `logErfc(40) = ${logErfc(40)}`);
});

void test('logAdd and logSub add and subtract in log space without overflow', () => {
  assert.ok(Math.abs(logAdd(Math.log(2), Math.log(3)) - Math.log(5)) < 1e-15);
  assert.ok(Math.abs(logSub(Math.log(5), Math.log(3)) - Math.log(2)) < 1e-15);
  assert.equal(logAdd(-Infinity, 7), 7);
  assert.equal(logSub(7, -Infinity), 7);
  assert.equal(logSub(7, 7), -Infinity);
  assert.ok(Math.abs(logAdd(1000, 1000) - (1000 + Math.LN2)) < 1e-12);
  assert.throws(() => logSub(1, 2), RangeError);
});

void test('16-point Gauss–Legendre integrates polynomials of degree 31 exactly', () => {
  const { nodes, weights } = gaussLegendreNodes();
  for (const degree of [0, 2, 10, 30]) {
    let integral = 0;
    nodes.forEach((x, i) => (integral += weights[i] * x ** degree));
    assert.ok(Math.abs(integral - 2 / (degree + 1)) < 1e-14, `∫x^${degree} = ${integral}`);
  }
  let odd = 0;
  nodes.forEach((x, i) => (odd += weights[i] * x ** 31));
  assert.ok(Math.abs(odd) < 1e-15);
});

void test('real FFT equals the direct DFT and inverts itself (odd and even numbers of stages)', () => {
  for (const n of [4, 8, 16, 32, 64, 128]) {
    const x = Float64Array.from({ length: n }, (_, i) => Math.sin(1.7 * i) + ((i * 7) % 5) / 3);
    const fft = new RealFft(n);
    const spectrum = fft.forward(x);
    for (let k = 0; k <= n / 2; k++) {
      let re = 0;
      let im = 0;
      for (let j = 0; j < n; j++) {
        re += x[j] * Math.cos((2 * Math.PI * j * k) / n);
        im -= x[j] * Math.sin((2 * Math.PI * j * k) / n);
      }
      assert.ok(Math.abs(re - spectrum.re[k]) < 1e-12 && Math.abs(im - spectrum.im[k]) < 1e-12, `n=${n} k=${k}`);
    }
    const back = fft.inverse(spectrum);
    x.forEach((v, j) => assert.ok(Math.abs(back[j] - v) < 1e-14));
  }
  assert.throws(() => new RealFft(12), RangeError);
});

void test('FFT convolution of probability vectors is circular convolution', () => {
  const n = 64;
  const a = new Float64Array(n);
  const b = new Float64Array(n);
  a.set([0.2, 0.5, 0.3], 0);
  b.set([0.6, 0.4], 62);
  const fft = new RealFft(n);
  const A = fft.forward(a);
  const B = fft.forward(b);
  const re = A.re.map((r, k) => r * B.re[k] - A.im[k] * B.im[k]);
  const im = A.re.map((r, k) => r * B.im[k] + A.im[k] * B.re[k]);
  const c = fft.inverse({ re, im });
  const expected = new Float64Array(n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) expected[(i + j) % n] += a[i] * b[j];
  expected.forEach((v, i) => assert.ok(Math.abs(c[i] - v) < 1e-15, `index ${i}: ${c[i]} vs ${v}`));
});
