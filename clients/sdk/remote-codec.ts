// The clients' payload codec: clients hold no keys, so they ask the codec server to seal what they
// send (a job's signed input) and to open what they read (results, progress). Each call is signed
// with the caller's token (infra/codec/codec-request-auth.ts); the token itself is never sent. The
// server opens only what the caller may read: a payload that comes back sealed is someone else's.
import { Client, Connection } from '@temporalio/client';
import type { Payload, PayloadCodec, SerializationContext } from '@temporalio/common';
import type { VeilConfig } from '../../infra/config.ts';
import { parseToken } from '../../infra/access/index.ts';
import { signCodecCall } from '../../infra/codec/codec-request-auth.ts';
import { bindingOf, isEncrypted } from '../../infra/codec/payload-cipher.ts';

export class NotYourJobError extends Error {
  override name = 'NotYourJobError';
  readonly exitCode = 4;
}

export class CodecServerError extends Error {
  override name = 'CodecServerError';
  /** 4 when the codec server refused the caller (an access refusal, like the workers'), 3 otherwise. */
  readonly exitCode: number;
  constructor(message: string, status?: number) {
    super(message);
    this.exitCode = status === 401 || status === 403 ? 4 : 3;
  }
}

interface JsonPayload {
  metadata?: Record<string, string>;
  data?: string;
}

const toJson = (p: Payload): JsonPayload => ({
  metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v ?? new Uint8Array()).toString('base64')])),
  data: Buffer.from(p.data ?? new Uint8Array()).toString('base64'),
});
const fromJson = (p: JsonPayload): Payload => ({
  metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, new Uint8Array(Buffer.from(v, 'base64'))])),
  data: new Uint8Array(Buffer.from(p.data ?? '', 'base64')),
});

export interface RemoteCodecOptions {
  /** The codec server's base URL (VEIL_CODEC_URL). */
  url: string;
  token: string;
  namespace: string;
  /**
   * The workflow id to seal for when the SDK gives no serialization context: a Schedule's action
   * arguments are encoded without one, and its runs read what was sealed for the schedule's id.
   */
  workflowId?: string;
}

export class RemoteCodec implements PayloadCodec {
  private readonly principal: string;
  private readonly secret: string;

  constructor(private readonly options: RemoteCodecOptions) {
    ({ principal: this.principal, secret: this.secret } = parseToken(options.token));
  }

  private async call(endpoint: 'encode' | 'decode', payloads: Payload[], workflowId: string): Promise<Payload[]> {
    const body = JSON.stringify({ payloads: payloads.map(toJson) });
    const authorization = signCodecCall(this.principal, this.secret, { endpoint, namespace: this.options.namespace, workflowId, body });
    let res: Response;
    try {
      res = await fetch(new URL(endpoint, this.options.url.endsWith('/') ? this.options.url : `${this.options.url}/`), {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'X-Namespace': this.options.namespace, Authorization: authorization, ...(endpoint === 'encode' ? { 'X-Veil-Workflow-Id': workflowId } : {}) },
        body,
      });
    } catch (err) {
      throw new CodecServerError(`cannot reach the codec server at ${this.options.url} (is \`veil infra up\` running?): ${(err as Error).message}`);
    }
    const reply = (await res.json().catch(() => ({}))) as { payloads?: JsonPayload[]; error?: string };
    if (!res.ok || !Array.isArray(reply.payloads)) throw new CodecServerError(`codec server refused the call (${res.status}): ${reply.error ?? 'no payloads'}`, res.status);
    return reply.payloads.map(fromJson);
  }

  async encode(payloads: Payload[], context?: SerializationContext): Promise<Payload[]> {
    if (payloads.length === 0) return payloads;
    return this.call('encode', payloads, context?.workflowId ?? this.options.workflowId ?? '');
  }

  /** The same caller's codec, sealing context-free payloads for `workflowId` (a schedule's id). */
  forWorkflow(workflowId: string): RemoteCodec {
    return new RemoteCodec({ ...this.options, workflowId });
  }

  async decode(payloads: Payload[], _context?: SerializationContext): Promise<Payload[]> {
    if (!payloads.some(isEncrypted)) return payloads;
    const opened = await this.call('decode', payloads, '');
    const sealed = opened.find(isEncrypted);
    if (sealed) throw new NotYourJobError(`workflow "${bindingOf(sealed)?.workflowId ?? '?'}" is not yours: ${this.principal} may not read its inputs or results`);
    return opened;
  }
}

/** A Temporal client that seals and opens payloads through the codec server, as `token`'s principal. */
export async function remoteCodecClient(cfg: VeilConfig, token: string): Promise<Client> {
  const connection = await Connection.connect({ address: cfg.TEMPORAL_ADDRESS });
  const codec = new RemoteCodec({ url: cfg.VEIL_CODEC_URL, token, namespace: cfg.TEMPORAL_NAMESPACE });
  return new Client({ connection, namespace: cfg.TEMPORAL_NAMESPACE, dataConverter: { payloadCodecs: [codec] } });
}
