// The one-run audit's ε lower bound against the independent scipy implementation of the paper's
// algorithm (fixtures/one_run_bound.py), and the guessing procedure's behaviour: a model that
// separates included from excluded canaries gets a large bound, one whose losses say nothing gets
// a positive bound no more often than the confidence allows.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { drawInsertedCanaries, oneRunAudit } from '../../engine/audit/inserted-canaries.ts';
import { oneRunEpsilonLowerBound, oneRunPValue } from '../../engine/audit/one-run-bound.ts';
import { SecureStream } from '../../engine/random/secure-stream.ts';

interface Case { m: number; r: number; v: number; delta: number; confidence: number; pValueAt: { epsilon: number; p: number }[]; epsilonLowerBound: number }
const fixture = JSON.parse(readFileSync(new URL('./fixtures/one-run-bound.json', import.meta.url), 'utf8')) as { cases: Case[] };

test('p-values equal the scipy reference (Steinke et al. 2023, Algorithm 2)', () => {
  assert.ok(fixture.cases.length >= 40);
  for (const c of fixture.cases) {
    for (const { epsilon, p } of c.pValueAt) {
      const ours = oneRunPValue(c.m, c.r, c.v, epsilon, c.delta);
      assert.ok(Math.abs(ours - p) <= 1e-9 + 1e-9 * p, `m=${c.m} r=${c.r} v=${c.v} δ=${c.delta} ε=${epsilon}: ${ours} vs scipy ${p}`);
    }
  }
});

test('ε lower bounds equal the scipy reference', () => {
  let positive = 0;
  for (const c of fixture.cases) {
    const ours = oneRunEpsilonLowerBound(c.m, c.r, c.v, c.delta, c.confidence);
    assert.ok(Math.abs(ours - c.epsilonLowerBound) <= 1e-6, `m=${c.m} r=${c.r} v=${c.v} δ=${c.delta} conf=${c.confidence}: ${ours} vs scipy ${c.epsilonLowerBound}`);
    if (c.epsilonLowerBound > 0.5) positive++;
  }
  assert.ok(positive >= 5, 'the fixture has cases with a real bound, not only zeros');
});

test('perfectly separated canaries give a bound well above 1; δ and fewer guesses lower it', () => {
  const m = 200;
  const included = Array.from({ length: m }, (_, i) => i % 2 === 0);
  const losses = included.map((inc, i) => (inc ? 1 : 5) + i * 1e-4);
  const audit = oneRunAudit(losses, included, 1e-5);
  assert.ok(audit.epsilonLowerBound > 3, `bound ${audit.epsilonLowerBound}`);
  assert.equal(audit.plans.at(-1)!.correct, m);
  assert.ok(oneRunEpsilonLowerBound(m, 20, 20, 1e-5) < oneRunEpsilonLowerBound(m, 200, 200, 1e-5));
  assert.ok(oneRunEpsilonLowerBound(m, 200, 200, 1e-2) < oneRunEpsilonLowerBound(m, 200, 200, 1e-6));
});

test('losses independent of inclusion: the bound is positive in at most about 5% of audits', () => {
  const rng = SecureStream.fromSeed('null-audits', 'test');
  const trials = 300;
  let positive = 0;
  for (let t = 0; t < trials; t++) {
    const included = Array.from({ length: 100 }, () => rng.nextDouble() < 0.5);
    const losses = included.map(() => rng.nextGaussian());
    if (oneRunAudit(losses, included, 1e-5).epsilonLowerBound > 0) positive++;
  }
  // 5% of 300 is 15; the binomial's 99.9% quantile is about 28.
  assert.ok(positive <= 28, `${positive} of ${trials} null audits claimed ε > 0`);
});

test('inserted canaries: fixed by the key, unique, about half included', () => {
  const key = new Uint8Array(32).fill(7);
  const a = drawInsertedCanaries(key, 400);
  assert.deepEqual(drawInsertedCanaries(key, 400), a);
  assert.notDeepEqual(drawInsertedCanaries(new Uint8Array(32).fill(8), 400), a);
  assert.equal(new Set(a.map((c) => c.text)).size, 400);
  const included = a.filter((c) => c.included).length;
  assert.ok(included > 160 && included < 240, `${included} of 400 included`);
  assert.ok(a.every((c) => /^[a-z]+( [a-z]+){9}$/.test(c.text)), a[0].text);
});
