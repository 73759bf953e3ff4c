// The model registry: models/<id>/ in Hugging Face layout (config.json, model.safetensors or its shards,
// tokenizer files, so `transformers` opens a download unchanged) plus veil.json with the privacy
// metadata every release decision reads. The manifest, written last, is the commit point.
// A DP-LoRA model keeps its PEFT adapter under adapter/ (adapter_config.json +
// adapter_model.safetensors: `PeftModel.from_pretrained(base, 'models/<id>/adapter')`) and, with
// `merge`, the merged full weights at the top as above; without, only the base's config.json there
// (materializeRegisteredModel merges onto the base at load time). The adapter stays out of the top
// folder because transformers, finding an adapter_config.json there, would load the adapter's base
// instead of the merged weights.
import { createReadStream } from 'node:fs';
import { copyFile, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { modelIdOfReference } from '../../contracts/ids.ts';
import { loadCheckpoint, saveCheckpoint } from '../../engine/gpt2/index.ts';
import { mergeLora } from '../../engine/lora/merge.ts';
import { writePeftAdapter } from '../../engine/lora/peft-adapter.ts';
import { inParallel } from '../../engine/train/checkpoint-shards-read.ts';
import { commitOnce, modelPrefix, type ArtifactStore } from '../../infra/storage/index.ts';
import { sharedStore } from '../shared/resources.ts';
import { ADAPTER_DIR, type BaseModelSpec } from '../training/base-model.ts';
import { trainedAdapter, trainedModel } from '../training/final-model.ts';
import { composeLineage, lineageLinkSchema, type LineageLink } from './lineage.ts';

export const modelPrivacySchema = z.object({
  modelId: z.string(),
  jobId: z.string(),
  analyst: z.string(),
  dataset: z.object({ name: z.string(), version: z.number() }),
  base: z.string(),
  /** Where the weights started: pretrained, random or a registered model (absent on models from before it was recorded). */
  initialization: z.enum(['pretrained', 'random', 'registered']).optional(),
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
  /**
   * Every model this one was fine-tuned from, oldest first, then this run itself: what the model
   * learned, from which data, at what ε. Models registered before lineage existed have none.
   */
  lineage: z.array(lineageLinkSchema).optional(),
  /** The chain's composed guarantee (lineage.ts): what every release of this model is held to. */
  guarantee: z.object({ epsilon: z.union([z.number(), z.literal('unlimited')]), delta: z.number() }).optional(),
  /** Which datasets the guarantee calls neighbours (README, "The privacy model"). */
  neighbouring: z.string().optional(),
  /** A DP-LoRA model: a PEFT adapter (adapter/) on `base` (initialised from `seed` when random); `merged`: full weights at the top too. */
  adapter: z.object({ rank: z.number(), alpha: z.number(), targets: z.array(z.string()), seed: z.string(), merged: z.boolean() }).optional(),
});

/** The neighbouring notion every DP release of Veil is calibrated for. */
export const NEIGHBOURING_NOTION = 'add or remove one row; the number of rows N is public and an absent row is an empty slot (per-row DP: a fact in k rows is protected at about kε)';
export type ModelPrivacy = z.output<typeof modelPrivacySchema>;

export interface RegisterModelInput {
  jobId: string;
  checkpointStep: number;
  base: BaseModelSpec;
  privacy: Omit<ModelPrivacy, 'modelId' | 'createdAt' | 'lineage' | 'guarantee' | 'neighbouring' | 'adapter'>;
}


/** Writes the model's files into `dir`; returns the adapter metadata of a LoRA model. */
async function writeModelFiles(store: ArtifactStore, input: RegisterModelInput, dir: string): Promise<ModelPrivacy['adapter']> {
  const { lora } = input.base;
  if (!lora) {
    await saveCheckpoint(dir, await trainedModel(store, input.jobId, input.checkpointStep, input.base));
    return undefined;
  }
  const { config, spec, adapters, baseDir } = await trainedAdapter(store, input.jobId, input.checkpointStep, input.base);
  await writePeftAdapter(join(dir, ADAPTER_DIR), config, spec, adapters, input.base.base);
  if (lora.merge) {
    const frozen = await loadCheckpoint(baseDir);
    await saveCheckpoint(dir, { config, weights: mergeLora(config, frozen.weights, spec, adapters) });
  } else {
    await copyFile(join(baseDir, 'config.json'), join(dir, 'config.json'));
  }
  return { rank: spec.rank, alpha: spec.alpha, targets: [...spec.targets], seed: input.base.seed, merged: lora.merge === true };
}

/** Every file under dir, as relative paths with '/' (adapter/ is one level down). */
export async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name).slice(dir.length + 1)).sort();
}

/** The chain of a new model: its registered base's chain, then this run. */
async function lineageOf(store: ArtifactStore, modelId: string, privacy: RegisterModelInput['privacy']): Promise<LineageLink[]> {
  const self: LineageLink = { modelId, analyst: privacy.analyst, dataset: privacy.dataset, epsilon: privacy.epsilon, delta: privacy.delta };
  const baseId = modelIdOfReference(privacy.base);
  if (baseId === undefined) return [self];
  const base = await readModelPrivacy(store, baseId);
  if (!base) throw new Error(`the base model ${baseId} is no longer registered`);
  // A base registered before lineage existed is its own single link.
  const baseChain = base.lineage ?? [{ modelId: base.modelId, analyst: base.analyst, dataset: base.dataset, epsilon: base.epsilon, delta: base.delta }];
  return [...baseChain, self];
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
        const adapter = await writeModelFiles(store, input, dir);
        const lineage = await lineageOf(store, modelId, input.privacy);
        const { epsilon, delta } = composeLineage(lineage);
        const privacy: ModelPrivacy = {
          ...input.privacy, modelId, createdAt: new Date().toISOString(), lineage, guarantee: { epsilon, delta }, neighbouring: NEIGHBOURING_NOTION, ...(adapter ? { adapter } : {}),
        };
        await writeFile(join(dir, 'veil.json'), JSON.stringify(privacy, null, 2) + '\n');
        // A large model is several shards (engine/gpt2/sharded.ts): uploaded a few at a time.
        await inParallel(await filesUnder(dir), 4, async (file) => {
          await w.put(file, createReadStream(join(dir, file)));
        });
        return privacy;
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
    { metaSchema: modelPrivacySchema, largeObjects: ['model.safetensors'] },
  );
  return manifest.meta;
}

/** The guarantee every release of a model is held to: its whole chain's (its own ε for a model registered before lineage). */
export function releaseGuarantee(privacy: ModelPrivacy): { epsilon: number | 'unlimited'; delta: number | null } {
  return privacy.guarantee ?? { epsilon: privacy.epsilon, delta: privacy.delta };
}

/** A registered model's privacy metadata, or undefined. */
export async function readModelPrivacy(store: ArtifactStore, modelId: string): Promise<ModelPrivacy | undefined> {
  return (await store.tryReadManifest(modelPrefix(modelId), modelPrivacySchema))?.meta;
}
