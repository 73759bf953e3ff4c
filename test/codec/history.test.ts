// End to end against the real servers: a job run by the in-process workers leaves nothing readable
// in the Temporal server's history (its input, its signature, its failure message), and the codec
// server, deriving ownership from the signed start input, opens it for its signer only.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { WorkflowFailedError } from '@temporalio/client';
import { signRequest, formatToken } from '../../infra/access/index.ts';
import { config } from '../../infra/config.ts';
import { startCodecServer } from '../../infra/codec/serve.ts';
import { NotYourJobError, RemoteCodec } from '../../clients/sdk/remote-codec.ts';
import { withWorker } from '../helpers/temporal.ts';
import { rawText } from '../helpers/raw-text.ts';
import { newAnalyst } from '../helpers/principals.ts';

test('no marker, signature or failure text in the raw history; the codec server opens it for its signer only', async () => {
  const alice = await newAnalyst('codec-alice');
  const bob = await newAnalyst('codec-bob');
  const marker = `zq-marker-${randomBytes(6).toString('hex')}`;
  const input = signRequest(alice.token, 'catalog', { query: { kind: 'describe' as const, name: marker } });
  const workflowId = `catalog-codec-${randomBytes(6).toString('hex')}`;
  await withWorker(async ({ client, taskQueue }) => {
    // The helper's client holds the master key (tests play the operator): it reads the failure in clear.
    const err = await client.workflow.execute('catalog', { taskQueue, workflowId, args: [input] }).catch((e: unknown) => e);
    assert.ok(err instanceof WorkflowFailedError, String(err));
    const messages: string[] = [];
    for (let e: unknown = err; e instanceof Error; e = e.cause) messages.push(e.message);
    assert.match(messages.join(' | '), new RegExp(marker), 'the failure message names the dataset');

    const history = await client.workflowService.getWorkflowExecutionHistory({ namespace: config().TEMPORAL_NAMESPACE, execution: { workflowId } });
    const raw = rawText(history.history?.events ?? []);
    assert.ok(raw.length > 1000, 'the history was read');
    assert.equal(raw.includes(marker), false, 'the marker is not in the raw history');
    assert.equal(raw.includes(input.auth.signature), false, 'the signature is not in the raw history');
    assert.equal(raw.includes('binary/encrypted'), true);

    const started = history.history!.events![0].workflowExecutionStartedEventAttributes!.input!.payloads!;
    const codec = await startCodecServer({ port: 0 });
    try {
      const remote = (token: string) => new RemoteCodec({ url: codec.url, token, namespace: config().TEMPORAL_NAMESPACE });
      const [opened] = await remote(alice.token).decode(started);
      assert.ok(Buffer.from(opened.data!).toString().includes(marker), 'the signer reads her input');
      await assert.rejects(remote(bob.token).decode(started), NotYourJobError);
      await assert.rejects(remote(formatToken(alice.id, randomBytes(32).toString('base64url'))).decode(started), /401/);
    } finally {
      await codec.close();
    }
  });
});
