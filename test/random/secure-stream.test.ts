// SecureStream: the ChaCha20 keystream (RFC 8439 test vector), resumability, and the
// distributions built on it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SecureStream } from '../../engine/random/secure-stream.ts';

void test('the keystream is RFC 8439 ChaCha20 (section 2.4.2 vector, block counter 1)', () => {
  const key = Uint8Array.from({ length: 32 }, (_, i) => i);
  const nonce = Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 0x4a, 0, 0, 0, 0]);
  const s = new SecureStream(key, nonce, { startByte: 64 });
  const bytes = new Uint8Array(new Uint32Array(Array.from({ length: 8 }, () => s.nextUint32())).buffer);
  const hex = Buffer.from(bytes).toString('hex');
  assert.equal(hex, '224f51f3401bd9e12fde276fb8631ded8c131f823d2c06e27e4fcaec9ef3cf78');
});

void test('resuming at a recorded position continues the same stream', () => {
  const a = SecureStream.fromSeed('k', 'test', { blockBytes: 256 });
  for (let i = 0; i < 1000; i++) a.nextUint32();
  const at = a.position;
  assert.equal(at, 4000);
  const rest = Array.from({ length: 100 }, () => a.nextUint32());
  const b = SecureStream.fromSeed('k', 'test', { startByte: at });
  assert.deepEqual(Array.from({ length: 100 }, () => b.nextUint32()), rest);
});

void test('same seed and domain give the same draws; another seed or domain does not', () => {
  const draw = (seed: string, domain: string) => {
    const out = new Float64Array(16);
    SecureStream.fromSeed(seed, domain).fillGaussian(out);
    return Array.from(out);
  };
  assert.deepEqual(draw('1', 'x'), draw('1', 'x'));
  assert.notDeepEqual(draw('1', 'x'), draw('2', 'x'));
  assert.notDeepEqual(draw('1', 'x'), draw('1', 'y'));
});

void test('uniforms lie in [0, 1) and Gaussians have mean 0 and variance std²', () => {
  const s = SecureStream.fromSeed(3, 'test');
  const u = new Float64Array(200_000);
  s.fillUniform(u);
  let mean = 0;
  for (const x of u) {
    assert.ok(x >= 0 && x < 1);
    mean += x / u.length;
  }
  assert.ok(Math.abs(mean - 0.5) < 5 * Math.sqrt(1 / 12 / u.length));
  const g = new Float32Array(200_001); // odd length exercises the unpaired last draw
  s.fillGaussian(g, 2);
  let m = 0;
  let v = 0;
  for (const x of g) m += x / g.length;
  for (const x of g) v += (x - m) ** 2 / g.length;
  assert.ok(Math.abs(m) < 5 * 2 / Math.sqrt(g.length), `mean ${m}`);
  assert.ok(Math.abs(v - 4) < 5 * 4 * Math.sqrt(2 / g.length), `variance ${v}`);
  assert.ok(Number.isFinite(s.nextGaussian()) && Number.isFinite(s.nextGaussian()));
});

void test('rejects keys and nonces of the wrong size and misaligned starts', () => {
  assert.throws(() => new SecureStream(new Uint8Array(16)), RangeError);
  assert.throws(() => new SecureStream(new Uint8Array(32), new Uint8Array(8)), RangeError);
  assert.throws(() => new SecureStream(new Uint8Array(32), undefined, { startByte: 3 }), RangeError);
});
