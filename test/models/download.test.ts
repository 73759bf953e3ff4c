// `veil models download` and the SDK's downloadModel: a registered model's folder arrives as the
// registry committed it (every file, each with the digest of the file Veil saved before storing
// it), for the model's analyst and for its dataset's owner, and transformers opens it unchanged
// with the logits Veil computes (needs bench/.venv's Python with transformers; skipped otherwise).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { benchPython } from '../../bench/python/python.ts';
import { downloadModel } from '../../clients/sdk/models.ts';
import { Gpt2Model } from '../../engine/gpt2/model.ts';
import { encode } from '../../engine/tokenizer/gpt2-tokenizer.ts';
import { fixtureDir } from '../gpt2/fixture.ts';
import { uniqueName } from '../helpers/names.ts';
import { newAnalyst, newOwner, type TestPrincipal } from '../helpers/principals.ts';
import { connectTestEnvironment, withWorker } from '../helpers/temporal.ts';
import { registerTestModel, type TestModel } from './registered-model.ts';
import { filesUnder } from '../../activities/models/registry.ts';

const python = benchPython();
const hasTransformers = existsSync(python) && spawnSync(python, ['-c', 'import torch, transformers'], { stdio: 'ignore' }).status === 0;

let env: TestWorkflowEnvironment;
let analyst: TestPrincipal;
let owner: TestPrincipal;
let model: TestModel;
const scratch: string[] = [];

before(async () => {
  env = await connectTestEnvironment();
  analyst = await newAnalyst('dl-analyst');
  owner = await newOwner('dl-owner');
  model = await registerTestModel({ analyst: analyst.id, owner: owner.id, dataset: uniqueName('dl-notes'), epsilon: 3 });
  scratch.push(model.source);
});
after(async () => {
  await env?.teardown();
  for (const dir of scratch) await rm(dir, { recursive: true, force: true });
});

const sha256 = async (file: string) => createHash('sha256').update(await readFile(file)).digest('hex');

async function freshDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'veil-download-'));
  scratch.push(dir);
  return join(dir, 'model');
}

test("the model's analyst and its dataset's owner get every file of the model, byte for byte", async () => {
  await withWorker(async ({ client, taskQueue }) => {
    const saved = (await readdir(model.source)).sort();
    for (const expected of ['config.json', 'model.safetensors', 'vocab.json', 'merges.txt', 'tokenizer_config.json', 'veil.json']) assert.ok(saved.includes(expected), `the saved model has ${expected}`);
    for (const [who, readAs] of [[analyst, 'analyst'], [owner, 'data-owner']] as const) {
      const dir = await freshDir();
      const got = await downloadModel({ temporal: client, taskQueue, token: who.token }, model.modelId, dir);
      assert.equal(got.readAs, readAs);
      assert.equal(got.epsilon, 3);
      assert.equal(got.delta, 1e-5);
      assert.deepEqual((await readdir(dir)).sort(), saved, 'the same files, no partial ones left');
      for (const file of saved) {
        const digest = await sha256(join(model.source, file));
        assert.equal(await sha256(join(dir, file)), digest, `${file} arrived as saved`);
        assert.equal(got.files.find((f) => f.path === file)?.sha256, digest, `${file}: the reported digest is the saved file's`);
      }
      const veil = JSON.parse(await readFile(join(dir, 'veil.json'), 'utf8')) as { modelId: string; guarantee: { epsilon: number } };
      assert.equal(veil.modelId, model.modelId);
      assert.equal(veil.guarantee.epsilon, 3);
    }
  });
});

test("a DP-LoRA model's download brings its PEFT adapter in adapter/, byte for byte, beside the top folder's files", async () => {
  const lora = await registerTestModel({ analyst: analyst.id, owner: owner.id, dataset: uniqueName('dl-lora-notes'), epsilon: 3, adapter: true });
  scratch.push(lora.source);
  await withWorker(async ({ client, taskQueue }) => {
    const saved = await filesUnder(lora.source);
    assert.ok(saved.includes('adapter/adapter_config.json') && saved.includes('adapter/adapter_model.safetensors'), 'the saved model has its adapter');
    const dir = await freshDir();
    const got = await downloadModel({ temporal: client, taskQueue, token: analyst.token }, lora.modelId, dir);
    assert.deepEqual(await filesUnder(dir), saved, 'the same files in the same folders, no partial ones left');
    assert.deepEqual(got.files.map((f) => f.path).sort(), saved);
    for (const file of saved) assert.equal(await sha256(join(dir, file)), await sha256(join(lora.source, file)), `${file} arrived as saved`);
  });
});

test('a downloaded model loads in Veil and, where Python has transformers, opens there unchanged with the same logits', async (t) => {
  await withWorker(async ({ client, taskQueue }) => {
    const dir = await freshDir();
    await downloadModel({ temporal: client, taskQueue, token: analyst.token }, model.modelId, dir);
    const veil = await Gpt2Model.load(dir);
    const text = 'The patient is a test';
    const ids = encode(text);
    const logits = await veil.sequenceLogits(ids);
    await veil.release();
    const vocab = logits.length / ids.length;
    const last = logits.subarray((ids.length - 1) * vocab);
    assert.ok(last.every(Number.isFinite));
    if (!hasTransformers) return t.skip(`no Python with transformers at ${python}`);
    const r = spawnSync(python, [join(fixtureDir, 'check_saved_model.py'), dir, text], { encoding: 'utf8', maxBuffer: 1 << 26 });
    assert.equal(r.status, 0, r.stderr);
    const hf = JSON.parse(r.stdout) as { ids: number[]; logits: number[]; architecture: string; tied: boolean };
    assert.equal(hf.architecture, 'GPT2LMHeadModel');
    assert.equal(hf.tied, true);
    assert.deepEqual(hf.ids, ids, 'the downloaded tokenizer encodes as GPT-2 does');
    let worst = 0;
    hf.logits.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - last[i]))));
    assert.ok(worst < 1e-4, `largest logit difference ${worst}`);
  });
});
