// The validation layer shared by the API and the CLI: numbers or decimal text only, each
// argument against its limit, errors typed (PrivacyInputError, exitCode 2) and named.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  checkDelta, checkEpsilon, checkNoiseMultiplier, checkSampleRate, checkSteps, toFiniteNumber,
  PrivacyInputError, PrvAccountant, RdpAccountant,
} from '../../engine/privacy/index.ts';

function refuses(run: () => unknown, argument: string, limit: RegExp): void {
  assert.throws(run, (err: unknown) => {
    assert.ok(err instanceof PrivacyInputError, String(err));
    assert.equal(err.exitCode, 2);
    assert.equal(err.argument, argument);
    assert.match(err.limit, limit);
    assert.ok(err.message.startsWith(`${argument} `), err.message);
    return true;
  });
}

void test('numbers and decimal or scientific text are accepted', () => {
  assert.equal(toFiniteNumber('1e-5', 'x'), 1e-5);
  assert.equal(toFiniteNumber(' 0.25 ', 'x'), 0.25);
  assert.equal(toFiniteNumber('.5', 'x'), 0.5);
  assert.equal(toFiniteNumber(-3, 'x'), -3);
  assert.equal(checkSteps('1e5'), 100_000);
});

void test('NaN, infinities, hex, empty text and non-numbers are refused', () => {
  for (const raw of ['NaN', NaN, 'abc', '', '0x10', '1,5', 'Infinity', Infinity, true, {}, null, undefined]) {
    refuses(() => toFiniteNumber(raw, 'x'), 'x', /number|finite|required/);
  }
});

void test('each argument against its limit', () => {
  refuses(() => checkSampleRate(0), 'sampleRate', /\(0, 1\]/);
  refuses(() => checkSampleRate(1.0000001), 'sampleRate', /\(0, 1\]/);
  assert.equal(checkSampleRate(1), 1);
  refuses(() => checkNoiseMultiplier(0), 'noiseMultiplier', /> 0/);
  refuses(() => checkSteps(0), 'steps', /≥ 1/);
  refuses(() => checkSteps(1.5), 'steps', /integer/);
  refuses(() => checkSteps(2 ** 60), 'steps', /≤/);
  refuses(() => checkDelta(0), 'delta', /\(0, 1\)/);
  refuses(() => checkDelta(1), 'delta', /\(0, 1\)/);
  refuses(() => checkEpsilon(0, 'targetEpsilon'), 'targetEpsilon', /> 0/);
  refuses(() => checkEpsilon(-1, '--target-epsilon'), '--target-epsilon', /> 0/);
});

void test('accountants validate steps and queries', () => {
  for (const accountant of [new RdpAccountant(), new PrvAccountant()]) {
    refuses(() => accountant.step(0, 1), 'sampleRate', /\(0, 1\]/);
    refuses(() => accountant.step(0.1, -2), 'noiseMultiplier', /> 0/);
    refuses(() => accountant.step(0.1, 1, 0), 'count', /≥ 1/);
    refuses(() => accountant.epsilon(1.5), 'delta', /\(0, 1\)/);
    assert.equal(accountant.history.length, 0, 'a refused step leaves no trace');
  }
  refuses(() => new RdpAccountant({ orders: [0.5] }), 'orders[0]', /> 1/);
  refuses(() => new PrvAccountant({ epsilonError: 0 }), 'epsilonError', /> 0/);
});
