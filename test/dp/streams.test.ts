// The keyed streams: block words are SecureStream's words; derivation separates purposes and steps.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KeystreamWords, RunKey, deriveStepKey } from '../../engine/dp/index.ts';
import { SecureStream } from '../../engine/random/secure-stream.ts';

void test('KeystreamWords yields exactly SecureStream.nextUint32 words, across block boundaries', () => {
  const k = Uint8Array.from({ length: 32 }, (_, i) => i * 3);
  const nonce = Uint8Array.from({ length: 12 }, (_, i) => 200 - i);
  const blocks = new KeystreamWords(k, nonce, 128);
  const stream = new SecureStream(k, nonce);
  for (let i = 0; i < 1000; i++) assert.equal(blocks.nextUint32(), stream.nextUint32(), `word ${i}`);
});

void test('step keys differ by purpose, step and run key, and are stable', () => {
  const runKey = new RunKey(new Uint8Array(32).fill(1));
  const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
  const seen = new Set<string>();
  for (const purpose of ['noise', 'sampler'] as const) {
    for (const step of [0, 1, 2, 1_000_000]) seen.add(hex(deriveStepKey(runKey, purpose, step)));
  }
  seen.add(hex(deriveStepKey(new RunKey(new Uint8Array(32).fill(2)), 'noise', 0)));
  assert.equal(seen.size, 9);
  assert.equal(hex(deriveStepKey(runKey, 'noise', 1)), hex(deriveStepKey(new RunKey(new Uint8Array(32).fill(1)), 'noise', 1)));
  assert.throws(() => deriveStepKey(runKey, 'noise', -1), RangeError);
  assert.throws(() => deriveStepKey(runKey, 'noise', 1.5), RangeError);
});
