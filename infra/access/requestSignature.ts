// Signed requests. Every request that reads or spends something (start a fine-tune, sample, ingest,
// grant budget, list datasets) carries `auth: { principal, signature }`, where the signature is
// HMAC-SHA256 under the principal's secret of the action name and the request's canonical JSON
// (RFC 8785, so key order and number formatting cannot make two encodings of one request differ).
// The worker recomputes it from the principal record in S3. What history holds (the request and
// its signature) is enough to check the request, not to forge another one.
//
// Replays: a signature is bound to the exact request. Fine-tunes and samples carry a job id that can
// be claimed once; grants carry `issuedAt`, which the ledger only accepts increasing. A schedule's
// runs reuse its signed input on purpose: each run is one more of the same job for the same analyst.
import { createHmac, timingSafeEqual } from 'node:crypto';
import canonicalize from 'canonicalize';
import { parseToken } from './tokens.ts';

export const SIGNATURE_VERSION = 'veil-request/1';

/** What an authorized request carries next to its payload. */
export interface RequestAuth {
  principal: string;
  /** base64url HMAC-SHA256 of signedMessage(action, payload). */
  signature: string;
}

/** The request as the worker will see it: a JSON round trip drops undefined fields and functions. */
export function normalizePayload(payload: unknown): unknown {
  return payload === undefined ? null : (JSON.parse(JSON.stringify(payload)) as unknown);
}

export function signedMessage(action: string, payload: unknown): string {
  const body = canonicalize(normalizePayload(payload));
  if (body === undefined) throw new TypeError('request payload cannot be encoded as JSON');
  return `${SIGNATURE_VERSION}\n${action}\n${body}`;
}

export function signPayload(secret: string, action: string, payload: unknown): string {
  return createHmac('sha256', secret).update(signedMessage(action, payload)).digest('base64url');
}

/** Constant-time comparison of the expected and the presented signature. */
export function signatureMatches(secret: string, action: string, payload: unknown, signature: string): boolean {
  const expected = Buffer.from(signPayload(secret, action, payload), 'base64url');
  const presented = Buffer.from(signature, 'base64url');
  return presented.length === expected.length && timingSafeEqual(presented, expected);
}

/** The payload a signature covers: the request without its `auth` field. */
export function unsignedPart<T extends { auth?: unknown }>(request: T): Omit<T, 'auth'> {
  const { auth: _auth, ...rest } = request;
  return rest;
}

/** `request` with an `auth` field signed by `token` for `action`. */
export function signRequest<T extends object>(token: string, action: string, request: T): T & { auth: RequestAuth } {
  const { principal, secret } = parseToken(token);
  const payload = unsignedPart(request as T & { auth?: unknown });
  return { ...(payload as T), auth: { principal, signature: signPayload(secret, action, payload) } };
}
