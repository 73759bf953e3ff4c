// Signed requests. Every request that reads or spends something (start a fine-tune, sample, ingest,
// grant budget, list datasets) carries `auth: { principal, signature }`, where the signature is
// HMAC-SHA256 under the principal's secret of the action name and the request's canonical JSON
// (RFC 8785, so key order and number formatting cannot make two encodings of one request differ).
// The worker recomputes it from the principal record in S3. What history holds (the request and
// its signature) is enough to check the request, not to forge another one.
//
// Replays: a signature covers the request and its `auth` fields (all but the signature itself): a
// random nonce, an expiry and, for a schedule's input, the schedule it belongs to. The workers
// accept a nonce from one workflow only (activities/access/single-use.ts), so a request read from
// a history can never run again under another workflow id; grants also carry `issuedAt`, which
// the ledger only accepts increasing.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import canonicalize from 'canonicalize';
import { parseToken } from './tokens.ts';

export const SIGNATURE_VERSION = 'veil-request/1';

/** What an authorized request carries next to its payload. */
export interface RequestAuth {
  principal: string;
  /** base64url HMAC-SHA256 of signedMessage(action, signedPart(request)). */
  signature: string;
  /** Random, once per request: the workers let one workflow use it. */
  nonce?: string;
  /** ms since the epoch after which the workers refuse the request. */
  expiresAt?: number;
  /** A schedule's input: the schedule whose runs may present it, and its interval in ms. */
  schedule?: { id: string; everyMs: number };
}

/** How long a signed request stays good by default: it is signed right before it is sent. */
export const DEFAULT_REQUEST_LIFETIME_MS = 60 * 60 * 1000;

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

/** The request without its `auth` field. */
export function unsignedPart<T extends { auth?: unknown }>(request: T): Omit<T, 'auth'> {
  const { auth: _auth, ...rest } = request;
  return rest;
}

/**
 * What a signature covers: the request, and its auth fields but the signature (nonce, expiry,
 * schedule). A request signed before nonces existed carries only principal and signature, and its
 * signature covers the request alone.
 */
export function signedPart(request: Record<string, unknown>): unknown {
  const { auth, ...rest } = request;
  if (typeof auth !== 'object' || auth === null) return rest;
  const { signature: _signature, principal: _principal, ...fields } = auth as Record<string, unknown>;
  return Object.keys(fields).length === 0 ? rest : { ...rest, auth: { principal: (auth as Record<string, unknown>).principal, ...fields } };
}

/** Whether `request.auth.signature` is `secret`'s signature of the request for `action`. */
export function requestSignatureMatches(secret: string, action: string, request: Record<string, unknown>): boolean {
  const signature = (request.auth as { signature?: unknown } | undefined)?.signature;
  return typeof signature === 'string' && signatureMatches(secret, action, signedPart(request), signature);
}

export interface SignOptions {
  /** How long the request stays good (default one hour). */
  lifetimeMs?: number;
  /** For a schedule's input: the schedule and its interval. */
  schedule?: { id: string; everyMs: number };
}

/** `request` with an `auth` field signed by `token` for `action`: a fresh nonce, an expiry. */
export function signRequest<T extends object>(token: string, action: string, request: T, options: SignOptions = {}): T & { auth: RequestAuth } {
  const { principal, secret } = parseToken(token);
  const payload = unsignedPart(request as T & { auth?: unknown }) as Record<string, unknown>;
  const fields = {
    principal,
    nonce: randomBytes(16).toString('base64url'),
    expiresAt: Date.now() + (options.lifetimeMs ?? DEFAULT_REQUEST_LIFETIME_MS),
    ...(options.schedule ? { schedule: options.schedule } : {}),
  };
  const signature = signPayload(secret, action, { ...payload, auth: fields });
  return { ...(payload as T), auth: { ...fields, signature } };
}
