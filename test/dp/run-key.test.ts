// The run key never shows up in JSON, strings or inspection.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { RunKey } from '../../engine/dp/index.ts';

void test('a RunKey is redacted in JSON, strings and util.inspect', () => {
  const bytes = new Uint8Array(32).fill(0xab);
  const key = new RunKey(bytes);
  const hex = Buffer.from(bytes).toString('hex');
  const renderings = [JSON.stringify({ key }), String(key), `${key}`, inspect({ nested: { key } }, { depth: 10, showHidden: true })];
  for (const text of renderings) {
    assert.ok(text.includes('redacted'), text);
    assert.ok(!text.includes(hex) && !text.includes('171'), text);
  }
});

void test('the key copies its bytes in and out, and insists on 32 bytes', () => {
  const bytes = new Uint8Array(32).fill(1);
  const key = new RunKey(bytes);
  bytes.fill(9);
  const out = key.exposeBytes();
  assert.deepEqual(out, new Uint8Array(32).fill(1));
  out.fill(5);
  assert.deepEqual(key.exposeBytes(), new Uint8Array(32).fill(1));
  assert.throws(() => new RunKey(new Uint8Array(16)), RangeError);
  assert.notDeepEqual(RunKey.generate().exposeBytes(), RunKey.generate().exposeBytes());
  assert.equal(RunKey.from(key), key);
});
