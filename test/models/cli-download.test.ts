// `veil models download ID DIR` as a user runs it: a child process with a token, talking to
// Temporal and a codec server only (started here from this checkout, so it knows the workflow).
// The model's analyst gets the folder (exit 0); another analyst is refused (exit 4) and gets nothing.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { startCodecServer } from '../../infra/codec/serve.ts';
import { describeRun, jsonOf, runVeil } from '../cli/harness.ts';
import { uniqueName } from '../helpers/names.ts';
import { newAnalyst, newOwner, type TestPrincipal } from '../helpers/principals.ts';
import { connectTestEnvironment, withWorker } from '../helpers/temporal.ts';
import { registerTestModel, type TestModel } from './registered-model.ts';

let env: TestWorkflowEnvironment;
let codec: Awaited<ReturnType<typeof startCodecServer>>;
let alice: TestPrincipal, mallory: TestPrincipal;
let model: TestModel;
let scratch: string;

before(async () => {
  env = await connectTestEnvironment();
  codec = await startCodecServer({ port: 0 });
  [alice, mallory] = await Promise.all([newAnalyst('cli-dl-alice'), newAnalyst('cli-dl-mallory')]);
  model = await registerTestModel({ analyst: alice.id, owner: (await newOwner('cli-dl-owner')).id, dataset: uniqueName('cli-dl'), epsilon: 4 });
  scratch = await mkdtemp(join(tmpdir(), 'veil-cli-dl-'));
});
after(async () => {
  await codec?.close();
  await env?.teardown();
  for (const dir of [scratch, model?.source]) if (dir) await rm(dir, { recursive: true, force: true });
});

test('veil models download writes the model for its analyst and refuses another analyst with exit code 4', async () => {
  await withWorker(async ({ taskQueue }) => {
    const as = (who: TestPrincipal) => ({ taskQueue, env: { VEIL_TOKEN: who.token, VEIL_CODEC_URL: codec.url } });
    const dir = join(scratch, 'alice');
    const ok = await runVeil(['models', 'download', model.modelId, dir, '--json'], as(alice));
    assert.equal(ok.code, 0, describeRun(ok));
    const got = jsonOf<{ modelId: string; epsilon: number; files: { path: string; sha256: string }[] }>(ok);
    assert.equal(got.modelId, model.modelId);
    assert.equal(got.epsilon, 4);
    assert.deepEqual((await readdir(dir)).sort(), (await readdir(model.source)).sort());
    for (const f of got.files) assert.equal(createHash('sha256').update(await readFile(join(dir, f.path))).digest('hex'), f.sha256, f.path);

    const plain = await runVeil(['models', 'download', model.modelId, join(scratch, 'alice-again')], as(alice));
    assert.equal(plain.code, 0, describeRun(plain));
    assert.match(plain.stdout, new RegExp(`model ${model.modelId} \\(ε=4\\.00, δ=1\\.00e-5\\) written to .*each checked against its sha256`));

    const refused = await runVeil(['models', 'download', model.modelId, join(scratch, 'mallory')], as(mallory));
    assert.equal(refused.code, 4, describeRun(refused));
    assert.match(refused.stderr, new RegExp(`${mallory.id} may not download model ${model.modelId}`));
    assert.doesNotMatch(refused.stderr + refused.stdout, /X-Amz|127\.0\.0\.1:9000/);
    assert.deepEqual(await readdir(join(scratch, 'mallory')).catch(() => []), []);
  }, { gpu: false });
});
