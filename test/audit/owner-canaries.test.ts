// The data owner's canaries: alternatives "of the same form" for any sentence, and the JSON Lines
// file's validation (problems named by line, never by content).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { parseOwnerCanaries } from '../../activities/audit/owner-canaries.ts';
import { ownerCanarySpec } from '../../engine/audit/index.ts';

test('a free-form secret is ranked among ≥ 1,000 alternatives of its shape, itself once', () => {
  const spec = ownerCanarySpec('The access code of Dr Marsh is', 'The access code of Dr Marsh is 4417 and the vault opens Tuesday');
  assert.equal(spec.prefix, 'The access code of Dr Marsh is');
  assert.equal(spec.secret, '4417 and the vault opens Tuesday');
  assert.ok(spec.candidates.length >= 1000, `${spec.candidates.length} candidates`);
  assert.equal(spec.candidates.filter((c) => c === spec.secret).length, 1);
  for (const c of spec.candidates.slice(0, 50)) assert.match(c, /^\d{4} [a-z]+ [a-z]+ [a-z]+ [a-z]+ [A-Z][a-z]+$/, c);
  assert.deepEqual(ownerCanarySpec('The access code of Dr Marsh is', 'The access code of Dr Marsh is 4417 and the vault opens Tuesday'), spec, 'the same alternatives every time');
});

test('a secret ending with a condition uses the condition grammar', () => {
  const spec = ownerCanarySpec('Ann Lee suffers', 'Ann Lee suffers from a rare form of renal fibrosis');
  assert.equal(spec.prefix, 'Ann Lee suffers from');
  assert.equal(spec.candidates.length, 1200);
});

test('the canaries file: valid lines parse, problems are named by line without their text', () => {
  const ok = parseOwnerCanaries('{"prompt":"Ann Lee suffers","secret":"Ann Lee suffers from a rare form of renal fibrosis"}\n\n');
  assert.equal(ok.length, 1);
  assert.throws(
    () => parseOwnerCanaries('{"prompt":"Zed","secret":"Zed Quux secretword"}\nnot json\n{"prompt":"Bob","secret":"Alice 1234"}\n'),
    (err: unknown) => {
      assert.ok(err instanceof ApplicationFailure && err.nonRetryable);
      assert.match(err.message, /line 2: not JSON/);
      assert.match(err.message, /line 3: .*start with the prompt/);
      assert.doesNotMatch(err.message, /secretword|Alice|1234/);
      return true;
    },
  );
  assert.throws(() => parseOwnerCanaries('\n'), /no canary/);
});
