// Tokens and signed requests (infra/access): what a client signs is exactly what the worker checks.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import {
  AccessTokenError,
  formatToken,
  newSecret,
  parseToken,
  signPayload,
  signRequest,
  signatureMatches,
  signedMessage,
  unsignedPart,
  signedPart,
  requestSignatureMatches,
} from '../../infra/access/index.ts';

const secret = newSecret();
const token = formatToken('alice@clinic.org', secret);

describe('access tokens', () => {
  it('round-trip the principal id (dots and @ included) and the secret', () => {
    assert.deepEqual(parseToken(token), { principal: 'alice@clinic.org', secret });
    assert.deepEqual(parseToken(formatToken('a.b.c', secret)), { principal: 'a.b.c', secret });
    assert.equal(secret.length, 43, '256 bits, base64url');
    assert.notEqual(newSecret(), newSecret());
  });

  it('refuse malformed tokens without repeating them', () => {
    for (const bad of ['', 'alice', `veil2.alice.${secret}`, `veil1..${secret}`, `veil1.alice.${secret.slice(1)}`, `veil1.al ice.${secret}`, `veil1.alice.${secret}!`]) {
      assert.throws(() => parseToken(bad), (err: unknown) => err instanceof AccessTokenError && !err.message.includes(secret.slice(0, 10)), bad);
    }
  });
});

describe('signed requests', () => {
  const request = { analyst: 'alice@clinic.org', dataset: { name: 'notes' }, training: { targetEpsilon: 8, batchSize: 16 } };

  it('sign the canonical JSON: key order and undefined fields do not change the signature', () => {
    const reordered = { training: { batchSize: 16, targetEpsilon: 8 }, dataset: { name: 'notes' }, analyst: 'alice@clinic.org', jobId: undefined };
    assert.equal(signPayload(secret, 'fineTune', request), signPayload(secret, 'fineTune', reordered));
    assert.equal(signedMessage('fineTune', reordered), 'veil-request/1\nfineTune\n{"analyst":"alice@clinic.org","dataset":{"name":"notes"},"training":{"batchSize":16,"targetEpsilon":8}}');
    // An independent HMAC of the documented message agrees (the format is what other clients must produce).
    assert.equal(signPayload(secret, 'fineTune', request), createHmac('sha256', secret).update(signedMessage('fineTune', request)).digest('base64url'));
  });

  it('verify the request they signed, and nothing else', () => {
    const signed = signRequest(token, 'fineTune', request);
    assert.equal(signed.auth.principal, 'alice@clinic.org');
    assert.ok(!JSON.stringify(signed).includes(secret), 'the secret is not in the signed request');
    assert.ok(signatureMatches(secret, 'fineTune', signedPart(signed), signed.auth.signature));
    // A JSON round trip (what Temporal does to the input) keeps it valid.
    const travelled = JSON.parse(JSON.stringify(signed)) as typeof signed;
    assert.ok(signatureMatches(secret, 'fineTune', signedPart(travelled), travelled.auth.signature));
    const changed = { ...(signedPart(signed) as object), training: { targetEpsilon: 80, batchSize: 16 } };
    assert.equal(signatureMatches(secret, 'fineTune', changed, signed.auth.signature), false, 'a changed ε');
    assert.equal(signatureMatches(secret, 'sample', signedPart(signed), signed.auth.signature), false, 'another action');
    assert.equal(signatureMatches(newSecret(), 'fineTune', signedPart(signed), signed.auth.signature), false, 'another key');
    assert.equal(signatureMatches(secret, 'fineTune', signedPart(signed), signed.auth.signature.slice(0, 20)), false, 'a truncated signature');
    assert.equal(signatureMatches(secret, 'fineTune', signedPart(signed), ''), false, 'no signature');
  });

  it('cover the nonce, the expiry and the schedule: changing any of them breaks the signature', () => {
    const signed = signRequest(token, 'fineTune', request, { schedule: { id: 'nightly', everyMs: 86_400_000 } });
    assert.ok(requestSignatureMatches(secret, 'fineTune', signed));
    assert.match(String(signed.auth.nonce), /^[A-Za-z0-9_-]{22}$/);
    assert.ok(Number(signed.auth.expiresAt) > Date.now());
    for (const auth of [{ nonce: 'A'.repeat(22) }, { expiresAt: Number(signed.auth.expiresAt) + 1 }, { schedule: { id: 'hourly', everyMs: 3_600_000 } }]) {
      assert.equal(requestSignatureMatches(secret, 'fineTune', { ...signed, auth: { ...signed.auth, ...auth } }), false, JSON.stringify(auth));
    }
    // Two signatures of one request differ (fresh nonces): each can be used once.
    assert.notEqual(signRequest(token, 'fineTune', request).auth.nonce, signRequest(token, 'fineTune', request).auth.nonce);
  });

  it('re-signing replaces an earlier auth field instead of signing it', () => {
    const once = signRequest(token, 'fineTune', request);
    const other = formatToken('bob', newSecret());
    const twice = signRequest(other, 'fineTune', once);
    assert.equal(twice.auth.principal, 'bob');
    assert.equal(signedMessage('fineTune', unsignedPart(twice)), signedMessage('fineTune', request));
  });
});
