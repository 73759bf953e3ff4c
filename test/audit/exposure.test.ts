// Canary exposure: the formula log2|R| − log2 rank, ties against the secret, the Gaussian
// extrapolation, and the candidate list of the demo's secret.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PLANTED_SECRET } from '../../clients/demo/patient-notes.ts';
import { canarySpec, conditionCanary, conditionFillings, exposureFromLogPerplexities } from '../../engine/audit/index.ts';
import { encode } from '../../engine/tokenizer/gpt2-tokenizer.ts';

const ramp = (n: number) => Array.from({ length: n }, (_, i) => i); // candidate i has log-perplexity i

void test('exposure = log2|R| − log2 rank', () => {
  const lp = ramp(1024);
  assert.deepEqual([0, 1, 511, 1023].map((i) => exposureFromLogPerplexities(lp, i).exposureBits), [10, 9, 1, 0]);
  const r = exposureFromLogPerplexities(lp, 511);
  assert.equal(r.rank, 512);
  assert.equal(r.candidates, 1024);
  assert.equal(r.maxExposureBits, 10);
  // Not a power of two: 1,200 candidates, secret third → log2(1200/3).
  assert.ok(Math.abs(exposureFromLogPerplexities(ramp(1200), 2).exposureBits - Math.log2(400)) < 1e-12);
});

void test('ties never lower the secret\'s rank below the strictly better count + 1', () => {
  const lp = [5, 1, 1, 1, 7];
  const r = exposureFromLogPerplexities(lp, 1);
  assert.equal(r.rank, 1);
  assert.equal(r.ties, 2);
  assert.equal(r.exposureBits, Math.log2(5));
  assert.equal(exposureFromLogPerplexities(lp, 4).rank, 5);
});

void test('extrapolated exposure: −log2 of the Gaussian tail below the secret', () => {
  // Alternatives ±1/√2 have mean 0 and sample std 1; a secret at the 5% quantile has
  // extrapolated exposure log2(20), one at the mean exactly 1 bit.
  const a = Math.SQRT1_2;
  const at5 = exposureFromLogPerplexities([-1.6448536269514722, -a, a], 0);
  assert.ok(at5.extrapolated && Math.abs(at5.extrapolated.exposureBits - Math.log2(20)) < 1e-9);
  assert.equal(at5.extrapolated.mean, 0);
  assert.ok(Math.abs(at5.extrapolated.std - 1) < 1e-12);
  assert.ok(Math.abs(exposureFromLogPerplexities([0, -a, a], 0).extrapolated!.exposureBits - 1) < 1e-12);
  // Far in the tail it exceeds what the rank can show (log2 3 here), without underflow.
  const far = exposureFromLogPerplexities([-40, -a, a], 0);
  assert.ok(far.extrapolated!.exposureBits > 1000 && Number.isFinite(far.extrapolated!.exposureBits));
  assert.equal(exposureFromLogPerplexities([0, 3, 3], 0).extrapolated, null, 'no spread, no fit');
});

void test('the demo secret\'s candidates: ≥ 1,000 unique fillings, the secret exactly once', () => {
  const canary = conditionCanary(PLANTED_SECRET);
  assert.equal(canary.prefix, 'François Dupont suffers from');
  assert.equal(canary.secret, 'a severe form of pancreatic cancer');
  assert.ok(canary.candidates.length >= 1000, `${canary.candidates.length}`);
  assert.equal(new Set(canary.candidates).size, canary.candidates.length);
  assert.equal(canary.candidates.filter((c) => c === canary.secret).length, 1);
  assert.deepEqual(conditionFillings(), canary.candidates, 'deterministic');
  assert.ok(canary.candidates.includes('an acute form of renal failure'), 'articles agree with the adjective');
  assert.ok(!canary.candidates.some((c) => /^a [aeiou]/.test(c)));
  // Every candidate tokenizes as the prefix followed by its own tokens (what the scoring assumes).
  const prefixIds = encode(canary.prefix);
  for (const c of canary.candidates) {
    const ids = encode(`${canary.prefix} ${c}`);
    assert.deepEqual(ids.slice(0, prefixIds.length), prefixIds, c);
  }
});

void test('canary specs are checked', () => {
  assert.throws(() => canarySpec('p', 'x', ['x', 'y', 'x']), /not unique/);
  assert.throws(() => canarySpec('p', 'z', ['x', 'y']), /not among/);
  assert.throws(() => canarySpec('p ', 'x', ['x', 'y']), /trailing whitespace/);
  assert.throws(() => conditionCanary('Jean Martin has a cold'), /pass the candidates explicitly/);
  assert.equal(conditionCanary('Jean Martin suffers from an acute form of renal failure.').prefix, 'Jean Martin suffers from');
});
