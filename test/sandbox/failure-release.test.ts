// Releasing a real run's failure counts under DP.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { releaseFailureCounts } from '../../engine/sandbox/failure-release.ts';
import { gdpDelta } from '../../engine/synthetic/gaussian-dp.ts';
import { SecureStream } from '../../engine/random/secure-stream.ts';

const exact = { count: 13, byKind: { error: 10, timeout: 3, memory: 0, stackOverflow: 0, nonSerializable: 0 } };

void test('failure counts are released with Gaussian noise calibrated to (ε, δ)', () => {
  const released = releaseFailureCounts(exact, { epsilon: 1, delta: 1e-6, rng: SecureStream.fromSeed(1, 'failures') });
  assert.ok(gdpDelta(1 / released.sigma, 1) <= 1e-6);
  assert.ok(released.sigma > 3 && released.sigma < 6, `σ ${released.sigma}`);
  assert.equal(released.count, Object.values(released.byKind).reduce((s, n) => s + n, 0));
  assert.ok(Object.values(released.byKind).every((n) => Number.isInteger(n) && n >= 0));
});

void test('the noise averages out around the exact counts and differs from draw to draw', () => {
  const rng = SecureStream.fromSeed(2, 'failures');
  const draws = Array.from({ length: 400 }, () => releaseFailureCounts(exact, { epsilon: 2, delta: 1e-6, rng }));
  const meanErrors = draws.reduce((s, d) => s + d.byKind.error, 0) / draws.length;
  assert.ok(Math.abs(meanErrors - 10) < 0.6, `mean ${meanErrors}`);
  assert.ok(new Set(draws.map((d) => d.byKind.error)).size > 5);
});
