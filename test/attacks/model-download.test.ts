// Attacks on modelDownload: another analyst, an unprivileged analyst (or the dataset's owner) asking
// for a non-DP model, and a replayed signed request are refused with no URL in the answer and no
// file on disk; the URLs a legitimate download gets never appear in the raw history.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { downloadModel, ModelDownloadError } from '../../clients/sdk/models.ts';
import { MODEL_DOWNLOAD_ACTION, MODEL_DOWNLOAD_WORKFLOW } from '../../contracts/models.ts';
import { config } from '../../infra/config.ts';
import { signRequest } from '../../infra/access/index.ts';
import { workflowFailure } from '../helpers/failures.ts';
import { uniqueName } from '../helpers/names.ts';
import { newAnalyst, newOwner, type TestPrincipal } from '../helpers/principals.ts';
import { rawText } from '../helpers/raw-text.ts';
import { connectTestEnvironment, withWorker } from '../helpers/temporal.ts';
import { registerTestModel, type TestModel } from '../models/registered-model.ts';

let env: TestWorkflowEnvironment;
let owner: TestPrincipal, alice: TestPrincipal, mallory: TestPrincipal, researcher: TestPrincipal;
let dpModel: TestModel, plainModel: TestModel;
let scratch: string;

before(async () => {
  env = await connectTestEnvironment();
  [owner, alice, mallory, researcher] = await Promise.all([newOwner('dl-owner'), newAnalyst('dl-alice'), newAnalyst('dl-mallory'), newAnalyst('dl-researcher', { privileged: true })]);
  const dataset = uniqueName('dl-attack');
  dpModel = await registerTestModel({ analyst: alice.id, owner: owner.id, dataset, epsilon: 2 });
  plainModel = await registerTestModel({ analyst: researcher.id, owner: owner.id, dataset, epsilon: 'unlimited' });
  scratch = await mkdtemp(join(tmpdir(), 'veil-dl-attack-'));
});
after(async () => {
  await env?.teardown();
  for (const dir of [scratch, dpModel?.source, plainModel?.source]) if (dir) await rm(dir, { recursive: true, force: true });
});

/** The refusal `who` gets for `model`, checked to carry no URL and to leave nothing on disk. */
async function refusedDownload(ctx: { client: Parameters<typeof downloadModel>[0]['temporal']; taskQueue: string }, who: TestPrincipal, model: TestModel): Promise<ModelDownloadError> {
  const dir = join(scratch, uniqueName('refused'));
  const err = await downloadModel({ temporal: ctx.client, taskQueue: ctx.taskQueue, token: who.token }, model.modelId, dir).then(
    () => assert.fail(`${who.id} downloaded ${model.modelId}`),
    (e: unknown) => e,
  );
  assert.ok(err instanceof ModelDownloadError, String(err));
  assert.equal(err.exitCode, 4);
  assert.equal(err.failureType, 'Forbidden');
  assert.doesNotMatch(err.message, /X-Amz|https?:\/\//, 'a refusal carries no URL');
  assert.deepEqual(await readdir(dir).catch(() => []), [], 'nothing was written');
  return err;
}

test("another analyst may not download a DP model; its analyst may", async () => {
  await withWorker(async ({ client, taskQueue }) => {
    const err = await refusedDownload({ client, taskQueue }, mallory, dpModel);
    assert.match(err.message, new RegExp(`${mallory.id} may not download model ${dpModel.modelId}`));
    const got = await downloadModel({ temporal: client, taskQueue, token: alice.token }, dpModel.modelId, join(scratch, 'alice'));
    assert.equal(got.readAs, 'analyst');
  });
});

test('a non-DP model is refused to unprivileged analysts and to the data owner; a privileged analyst gets it', async () => {
  await withWorker(async ({ client, taskQueue }) => {
    for (const who of [alice, mallory, owner]) {
      const err = await refusedDownload({ client, taskQueue }, who, plainModel);
      assert.match(err.message, /trained without differential privacy: its weights are for privileged principals only/);
    }
    const got = await downloadModel({ temporal: client, taskQueue, token: researcher.token }, plainModel.modelId, join(scratch, 'researcher'));
    assert.equal(got.readAs, 'privileged');
    assert.equal(got.epsilon, 'unlimited');
  });
});

test('a signed download request runs once, and its URLs never appear in the raw history', async () => {
  await withWorker(async ({ client, taskQueue }) => {
    const signed = signRequest(alice.token, MODEL_DOWNLOAD_ACTION, { modelId: dpModel.modelId });
    const first = uniqueName('model-download');
    const links = (await client.workflow.execute(MODEL_DOWNLOAD_WORKFLOW, { taskQueue, workflowId: first, args: [signed] })) as { files: { url: string }[] };
    assert.ok(links.files.length > 0 && links.files.every((f) => /X-Amz-Signature=/.test(f.url)), 'the signer got presigned URLs');
    const replay = await workflowFailure(client.workflow.execute(MODEL_DOWNLOAD_WORKFLOW, { taskQueue, workflowId: uniqueName('model-download'), args: [signed] }));
    assert.equal(replay.type, 'Unauthenticated');
    assert.match(replay.message, /already used by another workflow/);
    const history = await client.workflowService.getWorkflowExecutionHistory({ namespace: config().TEMPORAL_NAMESPACE, execution: { workflowId: first } });
    const raw = rawText(history.history?.events ?? []);
    assert.ok(raw.length > 0);
    assert.ok(!raw.includes('X-Amz-Signature'), 'no presigned URL in the raw history');
    assert.ok(!raw.includes(dpModel.modelId), 'not even the model id: payloads are sealed');
  });
});
