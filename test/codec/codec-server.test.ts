// The codec server over HTTP: who gets plaintext, who gets ciphertext, and which calls are refused.
// Readers and principals are given directly here (the end-to-end test derives them from Temporal).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { defaultPayloadConverter } from '@temporalio/common';
import { formatToken, newSecret } from '../../infra/access/index.ts';
import { keyRingFromEnv } from '../../infra/codec/key-ring.ts';
import { createCodecServer } from '../../infra/codec/server.ts';
import { OPERATOR_PRINCIPAL, issueSession, signCodecCall } from '../../infra/codec/codec-request-auth.ts';
import { NotYourJobError, RemoteCodec } from '../../clients/sdk/remote-codec.ts';

const UI = 'http://127.0.0.1:8233';
const secrets = new Map([['alice', newSecret()], ['bob', newSecret()], [OPERATOR_PRINCIPAL, newSecret()]]);
const token = (id: string) => formatToken(id, secrets.get(id)!);
const ring = keyRingFromEnv(`k1:${randomBytes(32).toString('base64')}`);
const logs: string[] = [];
const server = createCodecServer({
  ring,
  readers: { readersOf: async (wf) => ({ anyPrincipal: false, principals: new Set(wf === 'finetune-alice' ? ['alice'] : []) }) },
  secretOf: async (id) => secrets.get(id),
  allowedOrigins: [UI],
  log: (line) => logs.push(line),
});
let url = '';
before(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => server.close());

const remote = (id: string) => new RemoteCodec({ url, token: token(id), namespace: 'default' });
const ctx = { type: 'workflow' as const, namespace: 'default', workflowId: 'finetune-alice' };
const SECRET_TEXT = 'the planted secret';
const sealedForAlice = async () => remote('alice').encode([defaultPayloadConverter.toPayload({ text: SECRET_TEXT })], ctx);

test('the owner seals and opens her job; the payload in between is ciphertext bound to her workflow', async () => {
  const sealed = await sealedForAlice();
  assert.equal(Buffer.from(sealed[0].data!).includes(Buffer.from(SECRET_TEXT)), false);
  assert.equal(Buffer.from(sealed[0].metadata!['veil-workflow-id']!).toString(), 'finetune-alice');
  const [opened] = await remote('alice').decode(sealed, ctx);
  assert.deepEqual(defaultPayloadConverter.fromPayload(opened), { text: SECRET_TEXT });
});

test('another analyst gets ciphertext back, and the SDK says the job is not theirs; the refusal is logged', async () => {
  const sealed = await sealedForAlice();
  logs.length = 0;
  await assert.rejects(remote('bob').decode(sealed, ctx), NotYourJobError);
  assert.ok(logs.some((l) => l.includes('refused to decode payloads of workflow "finetune-alice" for principal "bob"')));
  const res = await fetch(`${url}/decode`, { method: 'POST', headers: { Authorization: signCodecCall('bob', secrets.get('bob')!, { endpoint: 'decode', namespace: '', workflowId: '', body: JSON.stringify({ payloads: [] }) }) }, body: JSON.stringify({ payloads: [] }) });
  assert.equal(res.status, 200);
});

test('the operator opens everything', async () => {
  const [sealed] = await sealedForAlice();
  const body = JSON.stringify({ payloads: [{ metadata: Object.fromEntries(Object.entries(sealed.metadata!).map(([k, v]) => [k, Buffer.from(v!).toString('base64')])), data: Buffer.from(sealed.data!).toString('base64') }] });
  const res = await fetch(`${url}/decode`, { method: 'POST', headers: { 'X-Namespace': 'default', Authorization: signCodecCall(OPERATOR_PRINCIPAL, secrets.get(OPERATOR_PRINCIPAL)!, { endpoint: 'decode', namespace: 'default', workflowId: '', body }) }, body });
  const reply = (await res.json()) as { payloads: { data: string }[] };
  assert.equal(JSON.parse(Buffer.from(reply.payloads[0].data, 'base64').toString()).text, SECRET_TEXT);
});

test('unsigned, badly signed, replayed and stale calls are refused', async () => {
  const body = JSON.stringify({ payloads: [] });
  const post = (headers: Record<string, string>, b = body) => fetch(`${url}/decode`, { method: 'POST', headers, body: b });
  assert.equal((await post({})).status, 401);
  assert.equal((await post({ Authorization: signCodecCall('bob', newSecret(), { endpoint: 'decode', namespace: '', workflowId: '', body }) })).status, 401);
  const header = signCodecCall('alice', secrets.get('alice')!, { endpoint: 'decode', namespace: '', workflowId: '', body });
  assert.equal((await post({ Authorization: header })).status, 200);
  const replay = await post({ Authorization: header });
  assert.equal(replay.status, 401);
  assert.match(((await replay.json()) as { error: string }).error, /replay/);
  assert.equal((await post({ Authorization: header }, JSON.stringify({ payloads: [{}] }))).status, 401, 'a header does not cover another body');
  const stale = signCodecCall('alice', secrets.get('alice')!, { endpoint: 'decode', namespace: '', workflowId: '', body }, Date.now() - 10 * 60_000);
  assert.equal((await post({ Authorization: stale })).status, 401);
});

test("the web UI's exact calls: CORS preflight, then POST <endpoint>/decode with X-Namespace and a session in the URL", async () => {
  const session = issueSession('alice', secrets.get('alice')!, Date.now() + 3_600_000);
  const endpoint = `${url}/s/${encodeURIComponent(session)}`;
  const preflight = await fetch(`${endpoint}/decode`, { method: 'OPTIONS', headers: { Origin: UI, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'content-type,x-namespace' } });
  assert.equal(preflight.status, 204);
  assert.equal(preflight.headers.get('access-control-allow-origin'), UI);
  assert.match(preflight.headers.get('access-control-allow-headers') ?? '', /X-Namespace/);
  const sealed = await sealedForAlice();
  const body = JSON.stringify({ payloads: sealed.map((p) => ({ metadata: Object.fromEntries(Object.entries(p.metadata!).map(([k, v]) => [k, Buffer.from(v!).toString('base64')])), data: Buffer.from(p.data!).toString('base64') })) });
  const ui = (target: string, origin = UI) => fetch(target, { method: 'POST', headers: { Origin: origin, 'Content-Type': 'application/json', 'X-Namespace': 'default' }, body });
  const res = await ui(`${endpoint}/decode`);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('access-control-allow-origin'), UI);
  const reply = (await res.json()) as { payloads: { metadata: Record<string, string>; data: string }[] };
  assert.equal(Buffer.from(reply.payloads[0].metadata.encoding, 'base64').toString(), 'json/plain');
  assert.equal(JSON.parse(Buffer.from(reply.payloads[0].data, 'base64').toString()).text, SECRET_TEXT);
  assert.equal((await ui(`${endpoint}/decode`, 'http://evil.example')).headers.get('access-control-allow-origin'), null);
  const bobSession = issueSession('bob', secrets.get('bob')!, Date.now() + 3_600_000);
  const asBob = (await (await ui(`${url}/s/${encodeURIComponent(bobSession)}/decode`)).json()) as { payloads: { metadata: Record<string, string> }[] };
  assert.equal(Buffer.from(asBob.payloads[0].metadata.encoding, 'base64').toString(), 'binary/encrypted');
  const expired = issueSession('alice', secrets.get('alice')!, Date.now() - 1);
  assert.equal((await ui(`${url}/s/${encodeURIComponent(expired)}/decode`)).status, 401);
  const forged = issueSession('alice', newSecret(), Date.now() + 3_600_000);
  assert.equal((await ui(`${url}/s/${encodeURIComponent(forged)}/decode`)).status, 401);
});
