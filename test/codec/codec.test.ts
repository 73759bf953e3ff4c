// The payload codec: sealing round-trips, tampering and moving a ciphertext are refused, rotation
// keeps old payloads readable, and unencrypted payloads pass through.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { VeilPayloadCodec, bindingMatches } from '../../infra/codec/codec.ts';
import { ensureKeyFile, keyRingFromEnv, readKeyFile, rotateKeyFile, type KeyRing } from '../../infra/codec/key-ring.ts';
import { ENCRYPTED_ENCODING, PayloadDecryptionError, WORKFLOW_ID_METADATA } from '../../infra/codec/payload-cipher.ts';

const ring = (...ids: string[]): KeyRing => keyRingFromEnv(ids.map((id) => `${id}:${randomBytes(32).toString('base64')}`).join(','));
const wf = (workflowId: string) => ({ type: 'workflow' as const, namespace: 'default', workflowId });
const MARKER = 'François Dupont suffers from a severe form of pancreatic cancer';
const plain = (): Payload => defaultPayloadConverter.toPayload({ note: MARKER, n: 3 });

test('a sealed payload round-trips and shows neither its data nor its encoding', async () => {
  const codec = new VeilPayloadCodec(ring('k1'));
  const [sealed] = await codec.encode([plain()], wf('finetune-a'));
  assert.equal(Buffer.from(sealed.metadata!.encoding!).toString(), ENCRYPTED_ENCODING);
  assert.equal(Buffer.from(sealed.data!).includes(Buffer.from('Dupont')), false);
  assert.equal(Buffer.from(sealed.data!).includes(Buffer.from('json/plain')), false);
  const [opened] = await codec.decode([sealed], wf('finetune-a'));
  assert.deepEqual(defaultPayloadConverter.fromPayload(opened), { note: MARKER, n: 3 });
});

test('two seals of one payload differ (fresh IV)', async () => {
  const codec = new VeilPayloadCodec(ring('k1'));
  const [a, b] = await codec.encode([plain(), plain()], wf('w'));
  assert.notDeepEqual(Buffer.from(a.data!), Buffer.from(b.data!));
});

test('a flipped bit, a relabelled workflow id or a moved ciphertext fails to decrypt', async () => {
  const codec = new VeilPayloadCodec(ring('k1'));
  const [sealed] = await codec.encode([plain()], wf('finetune-a'));
  const flipped = { ...sealed, data: Uint8Array.from(sealed.data!, (x, i) => (i === 20 ? x ^ 1 : x)) };
  await assert.rejects(codec.decode([flipped], wf('finetune-a')), PayloadDecryptionError);
  const relabelled = { ...sealed, metadata: { ...sealed.metadata, [WORKFLOW_ID_METADATA]: Buffer.from('finetune-b') } };
  await assert.rejects(codec.decode([relabelled]), /does not authenticate/);
  await assert.rejects(codec.decode([sealed], wf('finetune-b')), /sealed for workflow "finetune-a" arrived in workflow "finetune-b"/);
});

test('another master key cannot open a payload', async () => {
  const [sealed] = await new VeilPayloadCodec(ring('k1')).encode([plain()], wf('w'));
  await assert.rejects(new VeilPayloadCodec(ring('k1')).decode([sealed], wf('w')), /does not authenticate/);
  await assert.rejects(new VeilPayloadCodec(ring('k2')).decode([sealed], wf('w')), /no master key "k1"/);
});

test('unencrypted payloads (histories from before the codec) pass unchanged', async () => {
  const codec = new VeilPayloadCodec(ring('k1'));
  const p = plain();
  assert.deepEqual(await codec.decode([p], wf('w')), [p]);
});

test('scheduled runs read the input sealed for their schedule, nothing else does', () => {
  assert.equal(bindingMatches('finetune-nightly', 'finetune-nightly-2026-01-02T03:04:05Z'), true);
  assert.equal(bindingMatches('finetune-nightly', 'finetune-nightly-x'), false);
  assert.equal(bindingMatches('finetune-nightly', 'finetune-nightly2'), false);
});

test('key rotation: payloads sealed under the old key stay readable, new ones use the new key', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'veil-codec-'));
  const file = join(dir, 'secrets', 'codec-keys.json');
  assert.equal(ensureKeyFile(file), true);
  assert.equal(ensureKeyFile(file), false);
  assert.equal(statSync(file).mode & 0o777, 0o600);
  const before = readKeyFile(file);
  const [old] = await new VeilPayloadCodec(before).encode([plain()], wf('w'));
  const newId = rotateKeyFile(file);
  const after = readKeyFile(file);
  assert.equal(after.currentKeyId, newId);
  assert.notEqual(newId, before.currentKeyId);
  const codec = new VeilPayloadCodec(after);
  assert.deepEqual(defaultPayloadConverter.fromPayload((await codec.decode([old], wf('w')))[0]), { note: MARKER, n: 3 });
  const [fresh] = await codec.encode([plain()], wf('w'));
  assert.equal(Buffer.from(fresh.metadata!['encryption-key-id']!).toString(), newId);
});

test('a key file readable by others is refused', () => {
  const dir = mkdtempSync(join(tmpdir(), 'veil-codec-'));
  const file = join(dir, 'keys.json');
  writeFileSync(file, JSON.stringify({ current: 'k', keys: { k: randomBytes(32).toString('base64') } }), { mode: 0o644 });
  assert.throws(() => readKeyFile(file), /readable by other users/);
});
