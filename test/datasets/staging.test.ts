// Uploads without S3 credentials: a data owner gets a presigned URL from the stageUpload workflow
// (others are refused), the URL takes the bytes, and a staged object nobody ingests is deleted by
// its expiry timer (here shortened; in production the URL's hour plus an hour).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { WorkflowFailedError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { signRequest } from '../../infra/access/index.ts';
import type { PresignedUpload } from '../../contracts/datasets.ts';
import { putFile } from '../../clients/sdk/upload.ts';
import { newAnalyst } from '../helpers/principals.ts';
import { uniqueName } from '../helpers/names.ts';
import { connectTestEnvironment, withWorker } from '../helpers/temporal.ts';
import { datasetName, datasetsOwner, datasetsStore, localFile } from './harness.ts';

let env: TestWorkflowEnvironment;
before(async () => {
  env = await connectTestEnvironment();
});
after(async () => {
  await env?.teardown();
});

test('a presigned upload takes the file, hashed on the way; a staged file nobody ingests expires', async () => {
  await withWorker(async ({ client, taskQueue }) => {
    const owner = await datasetsOwner();
    const name = datasetName('staged');
    const target: PresignedUpload = await client.workflow.execute('stageUpload', { taskQueue, workflowId: uniqueName('stage'), args: [signRequest(owner.token, 'upload', { name })] });
    assert.match(target.key, /^uploads\/[0-9a-f-]{36}$/);
    const content = 'id,note\n1,staged only\n';
    const sent = await putFile(target.url, localFile('staged.csv', content));
    assert.equal(sent.size, Buffer.byteLength(content));
    const store = await datasetsStore();
    assert.equal((await store.getRawBuffer(target.key)).toString('utf8'), content, 'S3 holds exactly the bytes sent');
    // Its expiry timer deletes it when no ingest consumed it.
    await client.workflow.execute('expireStagedUpload', { taskQueue, workflowId: uniqueName('expire'), args: [{ key: target.key, afterSeconds: 1 }] });
    assert.equal(await store.exists(target.key), false);
    // The timer deletes staging objects only, whatever its input says.
    const err = await client.workflow.execute('expireStagedUpload', { taskQueue, workflowId: uniqueName('expire'), args: [{ key: 'datasets/x/v1/rows.jsonl', afterSeconds: 0 }] }).then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof WorkflowFailedError, 'a non-staging key is refused');

    const analyst = await newAnalyst('uploader');
    const refused = await client.workflow.execute('stageUpload', { taskQueue, workflowId: uniqueName('stage'), args: [signRequest(analyst.token, 'upload', { name: datasetName('nope') })] }).then(() => undefined, (e: unknown) => e);
    assert.ok(refused instanceof WorkflowFailedError && /only data owners may/.test(String((refused.cause?.cause as Error | undefined)?.message)), String(refused));
  }, { env, gpu: false });
});
