// Veil access tokens. A token is `veil1.<principal id>.<secret>`: the id says who is speaking, the
// secret (32 random bytes, base64url) is the key their requests are signed with. A client never
// sends the token itself anywhere: it signs each request with the secret (request-signature.ts),
// so a token never lands in a workflow's history, a log or the Temporal UI.
import { randomBytes } from 'node:crypto';
import { PRINCIPAL_ID_PATTERN } from '../../contracts/ids.ts';

const PREFIX = 'veil1.';
const SECRET = /^[A-Za-z0-9_-]{43}$/;

export class AccessTokenError extends Error {
  override name = 'AccessTokenError';
  readonly exitCode = 2;
}

export interface ParsedToken {
  principal: string;
  secret: string;
}

/** A fresh secret: 256 bits from the operating system's CSPRNG. */
export function newSecret(): string {
  return randomBytes(32).toString('base64url');
}

export function formatToken(principal: string, secret: string): string {
  if (!PRINCIPAL_ID_PATTERN.test(principal)) throw new AccessTokenError(`invalid principal id "${principal}": letters, digits, . _ @ -, at most 128 characters`);
  if (!SECRET.test(secret)) throw new AccessTokenError('invalid token secret');
  return `${PREFIX}${principal}.${secret}`;
}

/** Splits a token into its principal id and secret; the message never repeats the secret. */
export function parseToken(token: string): ParsedToken {
  const trimmed = token.trim();
  const cut = trimmed.lastIndexOf('.');
  const principal = trimmed.slice(PREFIX.length, cut);
  const secret = trimmed.slice(cut + 1);
  if (!trimmed.startsWith(PREFIX) || cut <= PREFIX.length || !PRINCIPAL_ID_PATTERN.test(principal) || !SECRET.test(secret)) {
    throw new AccessTokenError('not a Veil access token (expected veil1.<principal>.<secret>, as printed by `veil access add`)');
  }
  return { principal, secret };
}
