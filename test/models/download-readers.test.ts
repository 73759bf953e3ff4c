// Who may open a modelDownload's payloads at the codec server (infra/codec/readers.ts): its signer
// only. The answer holds presigned URLs to the model's files, so not even the dataset's owner, who
// may open the fine-tune's, opens someone else's download. No servers: the start event is built here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { defaultPayloadConverter } from '@temporalio/common';
import { MODEL_DOWNLOAD_ACTION, MODEL_DOWNLOAD_WORKFLOW } from '../../contracts/models.ts';
import { formatToken, newSecret, signRequest } from '../../infra/access/index.ts';
import { VeilPayloadCodec } from '../../infra/codec/codec.ts';
import { keyRingFromEnv } from '../../infra/codec/key-ring.ts';
import { WorkflowReaders } from '../../infra/codec/readers.ts';

test("a model download's payloads open for the principal who signed it, and for nobody else", async () => {
  const codec = new VeilPayloadCodec(keyRingFromEnv(`k1:${randomBytes(32).toString('base64')}`));
  const secrets = new Map([['alice', newSecret()], ['mallory', newSecret()]]);
  const workflowId = 'model-download-m1-abcd1234';
  const sealedInput = async (signer: string) =>
    codec.encode([defaultPayloadConverter.toPayload(signRequest(formatToken(signer, secrets.get(signer)!), MODEL_DOWNLOAD_ACTION, { modelId: 'm1' }))], { type: 'workflow', namespace: '', workflowId });
  const readersFor = async (signer: string, action = MODEL_DOWNLOAD_WORKFLOW) => {
    const input = await sealedInput(signer);
    const readers = new WorkflowReaders(codec, {
      startedRuns: async () => [{ workflowType: action, input }],
      principalSecret: async (id) => secrets.get(id),
      datasetOwner: async () => 'hospital',
    });
    return readers.readersOf(workflowId);
  };
  assert.deepEqual(await readersFor('alice'), { anyPrincipal: false, principals: new Set(['alice']) });
  assert.deepEqual(await readersFor('mallory'), { anyPrincipal: false, principals: new Set(['mallory']) });
  // The same request under a workflow type it was not signed for opens for nobody.
  assert.deepEqual(await readersFor('alice', 'sample'), { anyPrincipal: false, principals: new Set() });
});
