// A registered model for download tests, written the way the registry writes one (models/<id>/ in
// Hugging Face layout plus veil.json, committed by a manifest) without training: random `tiny`
// weights saved by Veil's own saveCheckpoint. The local copy stays, so tests can compare what a
// download wrote with the files as they were before they went into storage.
import { createReadStream } from 'node:fs';
import { cp, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { filesUnder, modelPrivacySchema, NEIGHBOURING_NOTION, type ModelPrivacy } from '../../activities/models/registry.ts';
import { saveCheckpoint } from '../../engine/gpt2/checkpoint.ts';
import { presetConfig } from '../../engine/gpt2/config.ts';
import { randomWeights } from '../../engine/gpt2/weights.ts';
import { claimDatasetOwner } from '../../infra/access/index.ts';
import { commitOnce, modelPrefix } from '../../infra/storage/index.ts';
import { uniqueName } from '../helpers/names.ts';
import { testStore } from '../helpers/storage.ts';

export interface TestModel {
  modelId: string;
  /** The folder the model was saved to before it was committed. */
  source: string;
  privacy: ModelPrivacy;
}

/** The committed PEFT adapter fixture (test/fixtures/gpt2-lora/adapter): what a DP-LoRA model keeps in adapter/. */
const adapterFixture = new URL('../fixtures/gpt2-lora/adapter/', import.meta.url);

/**
 * Registers a tiny model trained (on paper) by `analyst` on `dataset`, owned by `owner`; with
 * `adapter`, a DP-LoRA model's layout too: the PEFT adapter under adapter/ beside the weights.
 */
export async function registerTestModel(options: { analyst: string; owner: string; dataset: string; epsilon: number | 'unlimited'; adapter?: boolean }): Promise<TestModel> {
  const store = await testStore();
  await claimDatasetOwner(store, options.dataset, options.owner);
  const modelId = uniqueName('model');
  const source = await mkdtemp(join(tmpdir(), 'veil-test-model-'));
  const config = presetConfig('tiny');
  await saveCheckpoint(source, { config, weights: randomWeights(config, modelId) });
  if (options.adapter) await cp(adapterFixture, join(source, 'adapter'), { recursive: true });
  const dp = options.epsilon !== 'unlimited';
  const link = { modelId, analyst: options.analyst, dataset: { name: options.dataset, version: 1 }, epsilon: options.epsilon, delta: dp ? 1e-5 : null };
  const privacy: ModelPrivacy = {
    ...link,
    jobId: modelId,
    base: 'random:tiny',
    initialization: 'random',
    noiseMultiplier: dp ? 1.1 : 0,
    maxGradNorm: dp ? 1 : null,
    samplingRate: 0.1,
    steps: 10,
    accountant: dp ? 'prv' : null,
    trainRows: 100,
    evaluation: null,
    createdAt: new Date().toISOString(),
    lineage: [link],
    guarantee: { epsilon: options.epsilon, delta: dp ? 1e-5 : 0 },
    neighbouring: NEIGHBOURING_NOTION,
  };
  await writeFile(join(source, 'veil.json'), JSON.stringify(privacy, null, 2) + '\n');
  await commitOnce(
    store,
    modelPrefix(modelId),
    async (w) => {
      for (const file of await filesUnder(source)) await w.put(file, createReadStream(join(source, file)));
      return privacy;
    },
    { metaSchema: modelPrivacySchema },
  );
  return { modelId, source, privacy };
}

