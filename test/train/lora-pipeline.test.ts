// A DP-LoRA fine-tune through the real pipeline (Temporal + MinIO, in-process workers): the train
// activity trains the adapters alone (its checkpoints hold only them), evaluation and the audit run
// on the merged model, the registry stores the PEFT adapter (adapter/) with the merged weights,
// samples are released from it, and an adapter-only model is merged onto its base at load time.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { generatePatientNotes } from '../../clients/demo/patient-notes.ts';
import { addDataset } from '../../clients/sdk/datasets.ts';
import { grantBudget } from '../../clients/sdk/budget.ts';
import type { FineTuneInput, FineTuneResult } from '../../contracts/fine-tune.ts';
import type { SampleResult } from '../../contracts/sample.ts';
import { loadCheckpoint, presetConfig, randomWeights } from '../../engine/gpt2/index.ts';
import { adapterShapes } from '../../engine/lora/adapters.ts';
import { mergeLora } from '../../engine/lora/merge.ts';
import { readPeftAdapter } from '../../engine/lora/peft-adapter.ts';
import { commitOnce, modelPrefix, type ArtifactStore } from '../../infra/storage/index.ts';
import { downloadCheckpoint } from '../../activities/training/checkpoints.ts';
import { ADAPTER_DIR, materializeRegisteredModel } from '../../activities/training/base-model.ts';
import { uniqueName } from '../helpers/names.ts';
import { newAnalyst, newOwner, ownerLedger, signedBy, type TestPrincipal } from '../helpers/principals.ts';
import { testStore } from '../helpers/storage.ts';
import { connectTestEnvironment, withWorker } from '../helpers/temporal.ts';

let env: TestWorkflowEnvironment;
let store: ArtifactStore;
let owner: TestPrincipal;
const dataset = uniqueName('lora-notes');
const lora = { rank: 4, alpha: 8, targets: ['attn.c_attn', 'mlp.c_fc'] as const };

before(async () => {
  env = await connectTestEnvironment();
  store = await testStore();
  const dir = await mkdtemp(join(tmpdir(), 'veil-lora-'));
  const file = join(dir, 'notes.jsonl');
  await writeFile(file, generatePatientNotes({ rows: 80, secretCopies: 2, seed: 'lora-test' }).map((r) => JSON.stringify(r)).join('\n') + '\n');
  owner = await newOwner('lora-owner');
  await withWorker(async ({ client, taskQueue }) => addDataset(client, taskQueue, dataset, file, { token: owner.token }), { env, gpu: false });
});

after(async () => {
  await env?.teardown();
});

test('a DP-LoRA fine-tune trains the adapters only, registers a PEFT adapter with merged weights, and releases samples', async () => {
  await withWorker(async ({ client, taskQueue }) => {
    const alice = await newAnalyst('lora-alice');
    await grantBudget(client, { dataset, analyst: alice.id, epsilon: 10, delta: 5e-3 }, ownerLedger(owner, taskQueue));
    const spec: FineTuneInput = {
      analyst: alice.id,
      dataset: { name: dataset },
      textColumn: 'note',
      split: { kind: 'ratio', testFraction: 0.1 },
      model: { base: 'tiny', seed: 'lora-test', maxSeqLen: 24, lora: { ...lora, targets: [...lora.targets] } },
      training: { targetEpsilon: 8, delta: 1e-5, batchSize: 12, epochs: 0.5, maxGradNorm: 1, lr: 1e-2, checkpointEvery: 2 },
      audit: { insertCanaries: 10 },
    };
    const result: FineTuneResult = await client.workflow.execute('fineTune', { taskQueue, workflowId: uniqueName('ft-lora'), args: [signedBy(alice, 'fineTune', spec)] });
    assert.equal(result.status, 'completed', result.message);
    assert.ok(typeof result.epsilon === 'number' && result.epsilon > 0.1 && result.epsilon <= 8 + 1e-9, `ε=${result.epsilon}`);
    assert.ok(result.evaluation && Number.isFinite(result.evaluation.testLoss));
    assert.ok(result.audit && !result.audit.failed, 'the audit ran on the merged model');

    // The trainer saw the adapters alone: its checkpoint holds exactly them.
    const config = presetConfig('tiny');
    const ckpt = await downloadCheckpoint(store, result.modelId, result.steps);
    assert.deepEqual(ckpt.paramSpecs.map((s) => [s.name, [...s.shape]]), adapterShapes(config, lora));
    const bIndex = ckpt.paramSpecs.findIndex((s) => s.name.endsWith('lora_B'));
    assert.ok(ckpt.params[bIndex].some((v) => v !== 0), 'B moved off its zero initialisation');

    const manifest = await store.readManifest(modelPrefix(result.modelId));
    for (const file of ['config.json', 'model.safetensors', 'veil.json', `${ADAPTER_DIR}/adapter_config.json`, `${ADAPTER_DIR}/adapter_model.safetensors`]) assert.ok(manifest.entries[file], `model has ${file}`);
    assert.deepEqual(manifest.meta.adapter, { rank: 4, alpha: 8, targets: ['attn.c_attn', 'mlp.c_fc'], seed: 'lora-test', merged: true });

    // The registered folder: merged weights = the base (random:tiny from its seed) + the stored adapter.
    const dir = await materializeRegisteredModel(store, result.modelId, join(tmpdir(), 'veil', 'lora-test', uniqueName('m')));
    try {
      const registered = await loadCheckpoint(dir);
      const adapter = await readPeftAdapter(join(dir, ADAPTER_DIR), config);
      assert.deepEqual(adapter.spec, { rank: 4, alpha: 8, targets: ['attn.c_attn', 'mlp.c_fc'] });
      const expected = mergeLora(config, randomWeights(config, 'lora-test'), adapter.spec, adapter.weights);
      for (const [name, w] of expected) assert.deepEqual(registered.weights.get(name)!.data, w.data, name);
      assert.notDeepEqual(registered.weights.get('h.0.mlp.c_fc.weight')!.data, randomWeights(config, 'lora-test').get('h.0.mlp.c_fc.weight')!.data);

      // The same adapter registered alone (merge: false) is merged onto its base at load time.
      const adapterOnly = uniqueName('lora-adapter-only');
      await commitOnce(store, modelPrefix(adapterOnly), async (w) => {
        for (const file of ['config.json', `${ADAPTER_DIR}/adapter_config.json`, `${ADAPTER_DIR}/adapter_model.safetensors`]) await w.put(file, await readFile(join(dir, file)));
        return { ...manifest.meta, modelId: adapterOnly, adapter: { ...(manifest.meta.adapter as object), merged: false } };
      });
      const loaded = await materializeRegisteredModel(store, adapterOnly, join(tmpdir(), 'veil', 'lora-test', uniqueName('m')));
      const merged = await loadCheckpoint(loaded);
      for (const [name, w] of expected) assert.deepEqual(merged.weights.get(name)!.data, w.data, `adapter-only ${name}`);
      await rm(loaded, { recursive: true, force: true });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }

    const samples: SampleResult = await client.workflow.execute('sample', {
      taskQueue,
      workflowId: uniqueName('sample'),
      args: [signedBy(alice, 'sample', { analyst: alice.id, modelId: result.modelId, prompts: ['The patient'], unconditional: 1, maxEpsilon: 10, maxNewTokens: 6, seed: 's' })],
    });
    assert.equal(samples.samples.length, 2);
    assert.ok(samples.samples[0].text.startsWith('The patient'));
  }, { env });
});
