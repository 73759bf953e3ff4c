// Noise calibration: the σ found never overspends (ε ≤ target), wastes at most the tolerance
// (ε ≥ target − tolerance), and agrees with Opacus's get_noise_multiplier: Opacus's σ, measured
// with our accountant, also lands in the same window (fixture from Opacus 1.6).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { calibrateNoise, PrivacyInputError, prvEpsilon, rdpEpsilon } from '../../engine/privacy/index.ts';
import { reference } from './reference-fixture.ts';

const PRV_ERROR = reference.prvSettings.epsilonError;

for (const c of reference.calibration) {
  void test(`${c.accountant}: target ε=${c.targetEpsilon}, q=${c.sampleRate.toPrecision(3)}, ${c.steps} steps, δ=${c.delta}`, () => {
    const result = calibrateNoise({ accountant: c.accountant, targetEpsilon: c.targetEpsilon, sampleRate: c.sampleRate, steps: c.steps, delta: c.delta, tolerance: c.tolerance });
    const epsilonOf = (sigma: number): number => (c.accountant === 'rdp' ? rdpEpsilon : prvEpsilon)(c.sampleRate, sigma, c.steps, c.delta);
    assert.ok(result.epsilon <= c.targetEpsilon, `ε ${result.epsilon} > target`);
    assert.ok(result.epsilon >= c.targetEpsilon - c.tolerance, `ε ${result.epsilon} wastes more than the tolerance`);
    assert.equal(epsilonOf(result.noiseMultiplier), result.epsilon, 'reported ε is the ε at the reported σ');
    // Opacus's answer under our accountant: same window (RDP ε equal to 1e-6; PRV within its error).
    const slack = c.accountant === 'rdp' ? 1e-6 * c.targetEpsilon : PRV_ERROR;
    const atOpacus = epsilonOf(c.opacusNoiseMultiplier);
    assert.ok(atOpacus <= c.targetEpsilon + slack && atOpacus >= c.targetEpsilon - c.tolerance - slack, `Opacus σ ${c.opacusNoiseMultiplier} gives ε ${atOpacus} here`);
    assert.ok(Math.abs(result.noiseMultiplier - c.opacusNoiseMultiplier) / c.opacusNoiseMultiplier < 0.05, `σ ${result.noiseMultiplier} vs Opacus ${c.opacusNoiseMultiplier}`);
  });
}

void test('a smaller target needs more noise; PRV needs less noise than RDP for the same target', () => {
  const request = { accountant: 'rdp' as const, sampleRate: 0.01, steps: 2000, delta: 1e-5 };
  const loose = calibrateNoise({ ...request, targetEpsilon: 4 });
  const strict = calibrateNoise({ ...request, targetEpsilon: 1 });
  assert.ok(strict.noiseMultiplier > loose.noiseMultiplier);
  const prv = calibrateNoise({ ...request, accountant: 'prv', targetEpsilon: 1 });
  assert.ok(prv.noiseMultiplier < strict.noiseMultiplier);
});

void test('a tighter tolerance lands closer to the target', () => {
  const result = calibrateNoise({ accountant: 'rdp', targetEpsilon: 3, sampleRate: 0.02, steps: 5000, delta: 1e-6, tolerance: 1e-6 });
  assert.ok(result.epsilon <= 3 && result.epsilon >= 3 - 1e-6, `ε ${result.epsilon}`);
});

void test('a target that no σ ≤ 1e4 reaches is an error naming the target and the limit', () => {
  assert.throws(
    () => calibrateNoise({ accountant: 'rdp', targetEpsilon: 0.01, sampleRate: 1, steps: 100_000, delta: 1e-5 }),
    (err: unknown) => err instanceof PrivacyInputError && err.exitCode === 2 && err.argument === 'targetEpsilon' && /10000/.test(err.message),
  );
});

void test('bad requests are refused before any computation', () => {
  const good = { accountant: 'rdp' as const, targetEpsilon: 1, sampleRate: 0.01, steps: 100, delta: 1e-5 };
  const bad: [Record<string, unknown>, string][] = [
    [{ targetEpsilon: 0 }, 'targetEpsilon'],
    [{ targetEpsilon: NaN }, 'targetEpsilon'],
    [{ sampleRate: 0 }, 'sampleRate'],
    [{ steps: 0.5 }, 'steps'],
    [{ delta: 1 }, 'delta'],
    [{ tolerance: -0.1 }, 'tolerance'],
    [{ accountant: 'pld' }, 'accountant'],
  ];
  for (const [change, argument] of bad) {
    assert.throws(() => calibrateNoise({ ...good, ...change } as Parameters<typeof calibrateNoise>[0]), (err: unknown) => err instanceof PrivacyInputError && err.argument === argument, argument);
  }
});
