// The model registry: models/<id>/ in Hugging Face layout (config.json, model.safetensors,
// tokenizer files, so `transformers` opens a download unchanged) plus veil.json with the privacy
// metadata every release decision reads. The manifest, written last, is the commit point.
import { createReadStream } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { saveCheckpoint } from '../../engine/gpt2/index.ts';
import { commitOnce, modelPrefix, type ArtifactStore } from '../../infra/storage/index.ts';
import { sharedStore } from '../shared/resources.ts';
import type { BaseModelSpec } from '../training/baseModel.ts';
import { trainedModel } from '../training/finalModel.ts';

export const modelPrivacySchema = z.object({
  modelId: z.string(),
  jobId: z.string(),
  analyst: z.string(),
  dataset: z.object({ name: z.string(), version: z.number() }),
  base: z.string(),
  /** 'unlimited' for a non-DP model. */
  epsilon: z.union([z.number(), z.literal('unlimited')]),
  delta: z.number().nullable(),
  noiseMultiplier: z.number(),
  maxGradNorm: z.number().nullable(),
  samplingRate: z.number(),
  steps: z.number(),
  accountant: z.string().nullable(),
  trainRows: z.number(),
  evaluation: z.object({ testLoss: z.number(), perplexity: z.number(), epsilon: z.number().nullable() }).nullable(),
  createdAt: z.string(),
});
export type ModelPrivacy = z.output<typeof modelPrivacySchema>;

export interface RegisterModelInput {
  jobId: string;
  checkpointStep: number;
  base: BaseModelSpec;
  privacy: Omit<ModelPrivacy, 'modelId' | 'createdAt'>;
}

export async function registerModel(input: RegisterModelInput): Promise<ModelPrivacy> {
  const store = await sharedStore();
  const modelId = input.jobId;
  const prefix = modelPrefix(modelId);
  const { manifest } = await commitOnce(
    store,
    prefix,
    async (w) => {
      const dir = await mkdtemp(join(tmpdir(), 'veil-model-'));
      try {
        await saveCheckpoint(dir, await trainedModel(store, input.jobId, input.checkpointStep, input.base));
        const privacy: ModelPrivacy = { ...input.privacy, modelId, createdAt: new Date().toISOString() };
        await writeFile(join(dir, 'veil.json'), JSON.stringify(privacy, null, 2) + '\n');
        for (const file of (await readdir(dir)).sort()) await w.put(file, createReadStream(join(dir, file)));
        return privacy;
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
    { metaSchema: modelPrivacySchema, largeObjects: ['model.safetensors'] },
  );
  return manifest.meta;
}

/** A registered model's privacy metadata, or undefined. */
export async function readModelPrivacy(store: ArtifactStore, modelId: string): Promise<ModelPrivacy | undefined> {
  return (await store.tryReadManifest(modelPrefix(modelId), modelPrivacySchema))?.meta;
}
