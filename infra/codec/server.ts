// The codec server: Temporal's remote codec protocol (POST …/encode, POST …/decode, payloads as
// protobuf JSON `{payloads: [{metadata: {k: base64}, data: base64}]}`), for the web UI, the CLI
// and the SDK. Every call is authenticated (codec-request-auth.ts): a signed header, or for the UI a
// session carried in the endpoint URL (`…/s/<session>/decode`) or as a Bearer token. /decode opens
// only payloads of workflows the caller may read (readers.ts) and leaves the rest as ciphertext,
// logging each refusal; /encode seals for the workflow id the caller names (X-Veil-Workflow-Id).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Payload } from '@temporalio/common';
import { decryptPayload, bindingOf, encryptPayload, isEncrypted } from './payload-cipher.ts';
import { UNBOUND_WORKFLOW_ID } from './codec.ts';
import type { KeyRing } from './key-ring.ts';
import type { WorkflowReaders } from './readers.ts';
import {
  FRESHNESS_MS,
  NonceCache,
  OPERATOR_PRINCIPAL,
  codecCallSignatureMatches,
  parseCodecAuth,
  parseSession,
  sessionMatches,
  type SignedCall,
} from './codec-request-auth.ts';

export const WORKFLOW_ID_HEADER = 'x-veil-workflow-id';
const MAX_BODY = 64 * 1024 * 1024;

export interface CodecServerOptions {
  ring: KeyRing;
  readers: Pick<WorkflowReaders, 'readersOf'>;
  /** The HMAC secret of a principal (undefined: unknown or revoked); OPERATOR_PRINCIPAL's is the service secret. */
  secretOf(principal: string): Promise<string | undefined>;
  /** Origins allowed to call from a browser (the Temporal UI's). */
  allowedOrigins: string[];
  log?: (line: string) => void;
  now?: () => number;
}

interface JsonPayload {
  metadata?: Record<string, string>;
  data?: string;
}

class HttpError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

const fromJson = (p: JsonPayload): Payload => ({
  metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, new Uint8Array(Buffer.from(v, 'base64'))])),
  data: new Uint8Array(Buffer.from(p.data ?? '', 'base64')),
});
const toJson = (p: Payload): JsonPayload => ({
  metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v ?? new Uint8Array()).toString('base64')])),
  data: Buffer.from(p.data ?? new Uint8Array()).toString('base64'),
});

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new HttpError(413, 'request body too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

export function createCodecServer(options: CodecServerOptions): Server {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const now = options.now ?? Date.now;
  const nonces = new NonceCache();

  async function authenticate(req: IncomingMessage, path: string, call: SignedCall): Promise<string> {
    const header = req.headers.authorization;
    const signed = parseCodecAuth(header);
    if (signed) {
      const secret = await options.secretOf(signed.principal);
      if (!secret || !codecCallSignatureMatches(secret, signed, call)) throw new HttpError(401, 'the signature does not verify (an unknown or revoked principal, a wrong token, or a changed request)');
      if (Math.abs(now() - signed.ts) > FRESHNESS_MS) throw new HttpError(401, 'the signed call is too old (or the clocks differ by more than 5 minutes)');
      if (!nonces.claim(signed.principal, signed.nonce, now())) throw new HttpError(401, 'this signed call was already used (replay refused)');
      return signed.principal;
    }
    const fromPath = /\/s\/([^/]+)\/(?:encode|decode)$/.exec(path)?.[1];
    const bearer = header?.startsWith('Bearer ') ? header.slice(7).trim() : undefined;
    const session = parseSession(decodeURIComponent(fromPath ?? bearer ?? ''));
    if (session) {
      const secret = session.principal === OPERATOR_PRINCIPAL ? undefined : await options.secretOf(session.principal);
      if (!secret || !sessionMatches(secret, session)) throw new HttpError(401, 'the session does not verify');
      if (session.expiresAt < now()) throw new HttpError(401, 'the session has expired: run `veil codec-server session` again');
      return session.principal;
    }
    throw new HttpError(401, 'not signed: codec calls need a Veil-Codec signature or a session (`veil codec-server session`)');
  }

  async function mayRead(principal: string, workflowId: string): Promise<boolean> {
    if (principal === OPERATOR_PRINCIPAL) return true;
    if (workflowId === UNBOUND_WORKFLOW_ID) return false;
    const readers = await options.readers.readersOf(workflowId);
    return readers.anyPrincipal || readers.principals.has(principal);
  }

  async function decode(principal: string, payloads: Payload[]): Promise<Payload[]> {
    const refused = new Set<string>();
    const out = await Promise.all(payloads.map(async (p) => {
      const binding = bindingOf(p);
      if (!isEncrypted(p) || !binding) return p;
      if (!(await mayRead(principal, binding.workflowId))) {
        refused.add(binding.workflowId);
        return p;
      }
      try {
        return decryptPayload(p, (id) => options.ring.keys.get(id));
      } catch {
        return p;
      }
    }));
    for (const workflowId of refused) log(`codec-server: refused to decode payloads of workflow "${workflowId}" for principal "${principal}" (not theirs)`);
    return out;
  }

  function encode(payloads: Payload[], workflowId: string): Payload[] {
    const master = { keyId: options.ring.currentKeyId, key: options.ring.keys.get(options.ring.currentKeyId)! };
    return payloads.map((p) => (isEncrypted(p) ? p : encryptPayload(p, master, workflowId)));
  }

  function cors(req: IncomingMessage, res: ServerResponse): void {
    const origin = req.headers.origin;
    if (origin && options.allowedOrigins.includes(origin)) {
      res.setHeader('Access-Control-Allow-Origin', origin);
      res.setHeader('Vary', 'Origin');
      res.setHeader('Access-Control-Allow-Credentials', 'true');
      res.setHeader('Access-Control-Allow-Methods', 'POST, OPTIONS');
      res.setHeader('Access-Control-Allow-Headers', 'Content-Type, X-Namespace, Authorization, X-Veil-Workflow-Id');
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    cors(req, res);
    const path = new URL(req.url ?? '/', 'http://codec').pathname;
    if (req.method === 'OPTIONS') return void res.writeHead(204).end();
    if (req.method === 'GET' && path === '/health') return void res.writeHead(200, { 'Content-Type': 'text/plain' }).end('ok');
    const endpoint = path.endsWith('/encode') ? 'encode' : path.endsWith('/decode') ? 'decode' : undefined;
    if (!endpoint) throw new HttpError(404, 'not found: POST …/encode or …/decode');
    if (req.method !== 'POST') throw new HttpError(405, 'POST only');
    const body = await readBody(req);
    const namespace = String(req.headers['x-namespace'] ?? '');
    const workflowId = endpoint === 'encode' ? String(req.headers[WORKFLOW_ID_HEADER] ?? UNBOUND_WORKFLOW_ID) : '';
    const principal = await authenticate(req, path, { endpoint, namespace, workflowId, body });
    let parsed: { payloads?: JsonPayload[] };
    try {
      parsed = JSON.parse(body.toString('utf8')) as { payloads?: JsonPayload[] };
    } catch {
      throw new HttpError(400, 'the body is not JSON');
    }
    if (!Array.isArray(parsed.payloads)) throw new HttpError(400, 'expected {"payloads": [...]}');
    const payloads = parsed.payloads.map(fromJson);
    const result = endpoint === 'decode' ? await decode(principal, payloads) : encode(payloads, workflowId);
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ payloads: result.map(toJson) }));
  }

  return createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      const status = err instanceof HttpError ? err.status : 500;
      if (status === 401) log(`codec-server: refused a ${req.method} ${new URL(req.url ?? '/', 'http://codec').pathname.replace(/\/s\/[^/]+\//, '/s/…/')} call: ${(err as Error).message}`);
      if (status === 500) log(`codec-server: ${(err as Error).stack ?? String(err)}`);
      if (!res.headersSent) res.writeHead(status, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ error: status === 500 ? 'internal error' : (err as Error).message }));
    });
  });
}
