// How a caller proves who it is to the codec server without sending its token: each HTTP call
// carries a signed header,
//
//   Authorization: Veil-Codec principal=<id>, ts=<unix ms>, nonce=<base64url>, sig=<base64url>
//
// where sig is HMAC-SHA256, under the token's secret, of the endpoint, the namespace, the workflow
// id the caller encodes for, the timestamp, the nonce and the SHA-256 of the body. A captured
// header is useless for another body, another endpoint, after the freshness window, or twice (the
// server remembers nonces for the window). Operators sign as OPERATOR_PRINCIPAL with the service
// secret, which only holders of the S3 credentials can read.
//
// The web UI cannot sign: it gets a session instead, an expiring grant MACed with the secret
// (`veil codec-server session` prints a codec endpoint URL that carries it).
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const CODEC_AUTH_SCHEME = 'Veil-Codec';
export const OPERATOR_PRINCIPAL = 'veil:operator';
/** How far a signed call's timestamp may be from the server's clock. */
export const FRESHNESS_MS = 5 * 60_000;
const SIGNATURE_VERSION = 'veil-codec-request/1';
const SESSION_VERSION = 'veil-codec-session/1';

export interface SignedCall {
  endpoint: 'encode' | 'decode';
  namespace: string;
  /** The workflow /encode seals for ('' for /decode). */
  workflowId: string;
  body: string | Buffer;
}

export interface ParsedCodecAuth {
  principal: string;
  ts: number;
  nonce: string;
  sig: string;
}

function message(call: SignedCall, ts: number, nonce: string): string {
  const bodyHash = createHash('sha256').update(call.body).digest('hex');
  return [SIGNATURE_VERSION, call.endpoint, call.namespace, call.workflowId, String(ts), nonce, bodyHash].join('\n');
}

const mac = (secret: string, text: string) => createHmac('sha256', secret).update(text).digest();

function sameMac(expected: Buffer, presented: string): boolean {
  const p = Buffer.from(presented, 'base64url');
  return p.length === expected.length && timingSafeEqual(p, expected);
}

/** The Authorization header value for one call. */
export function signCodecCall(principal: string, secret: string, call: SignedCall, now = Date.now()): string {
  const nonce = randomBytes(16).toString('base64url');
  const sig = mac(secret, message(call, now, nonce)).toString('base64url');
  return `${CODEC_AUTH_SCHEME} principal=${principal}, ts=${now}, nonce=${nonce}, sig=${sig}`;
}

export function parseCodecAuth(header: string | undefined): ParsedCodecAuth | undefined {
  if (!header?.startsWith(`${CODEC_AUTH_SCHEME} `)) return undefined;
  const fields = new Map(header.slice(CODEC_AUTH_SCHEME.length + 1).split(',').map((part) => {
    const [k, ...v] = part.trim().split('=');
    return [k, v.join('=')] as const;
  }));
  const principal = fields.get('principal');
  const ts = Number(fields.get('ts'));
  const nonce = fields.get('nonce');
  const sig = fields.get('sig');
  if (!principal || !Number.isSafeInteger(ts) || !nonce || !/^[A-Za-z0-9_-]{16,64}$/.test(nonce) || !sig) return undefined;
  return { principal, ts, nonce, sig };
}

export function codecCallSignatureMatches(secret: string, auth: ParsedCodecAuth, call: SignedCall): boolean {
  return sameMac(mac(secret, message(call, auth.ts, auth.nonce)), auth.sig);
}

/** Remembers the nonces of the freshness window, so a captured call cannot be sent again. */
export class NonceCache {
  private readonly seen = new Map<string, number>();

  /** false when this nonce was already used within the window. */
  claim(principal: string, nonce: string, now = Date.now()): boolean {
    if (this.seen.size > 100_000 || this.seen.size % 1024 === 0) for (const [k, at] of this.seen) if (now - at > 2 * FRESHNESS_MS) this.seen.delete(k);
    const key = `${principal}\n${nonce}`;
    if (this.seen.has(key)) return false;
    this.seen.set(key, now);
    return true;
  }
}

// ---- sessions for the web UI ----

/** `<principal>.<expires ms>.<mac>`: an expiring grant for the UI, carried in the codec endpoint URL. */
export function issueSession(principal: string, secret: string, expiresAt: number): string {
  return `${principal}.${expiresAt}.${mac(secret, `${SESSION_VERSION}\n${principal}\n${expiresAt}`).toString('base64url')}`;
}

export function parseSession(session: string): { principal: string; expiresAt: number; mac: string } | undefined {
  const m = /^(.+)\.(\d{1,16})\.([A-Za-z0-9_-]{43})$/.exec(session);
  return m ? { principal: m[1], expiresAt: Number(m[2]), mac: m[3] } : undefined;
}

export function sessionMatches(secret: string, session: { principal: string; expiresAt: number; mac: string }): boolean {
  return sameMac(mac(secret, `${SESSION_VERSION}\n${session.principal}\n${session.expiresAt}`), session.mac);
}
