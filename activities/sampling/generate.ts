// The sampling activity (veil-gpu): loads a registered model from S3 and generates. Samples of a
// DP model are post-processing of a DP release, so they may leave; they are stored under
// samples/<sampleId>/ (committed by a manifest) and returned.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { TextSample } from '../../engine/gpt2/index.ts';
import { commitOnce, samplesPrefix, type ArtifactStore, type Manifest } from '../../infra/storage/index.ts';
import { runComputeInWorker } from '../shared/compute-worker.ts';
import { sharedStore } from '../shared/resources.ts';
import { materializeRegisteredModel } from '../training/base-model.ts';
import type { FolderGeneration } from './generate-worker.ts';

const GENERATE_WORKER = new URL('./generate-worker.ts', import.meta.url);

export interface GenerateSamplesInput {
  sampleId: string;
  modelId: string;
  prompts: string[];
  temperature: number;
  topK: number;
  topP: number;
  maxNewTokens: number;
  seed?: string;
}

const SAMPLES_FILE = 'samples.json';

async function storedSamples(store: ArtifactStore, manifest: Manifest): Promise<{ key: string; samples: { prompt: string; text: string }[] }> {
  const stored = JSON.parse((await store.getEntryBuffer(manifest, SAMPLES_FILE)).toString('utf8')) as { samples: { prompt: string; text: string }[] };
  return { key: `${manifest.prefix}/${SAMPLES_FILE}`, samples: stored.samples };
}

export async function generateSamples(input: GenerateSamplesInput): Promise<{ key: string; samples: { prompt: string; text: string }[] }> {
  const store = await sharedStore();
  const prefix = samplesPrefix(input.sampleId);
  const existing = await store.tryReadManifest(prefix);
  if (existing) return storedSamples(store, existing);
  const dir = await mkdtemp(join(tmpdir(), 'veil-sample-'));
  try {
    // Streamed to disk (the weights are held once, by the model); an adapter-only DP-LoRA model is
    // merged onto its base here.
    await materializeRegisteredModel(store, input.modelId, dir);
    // Without a seed, a fresh random one: samples are not reproducible by anyone else.
    const seed = input.seed ?? randomBytes(16).toString('hex');
    // Loading and decoding run in a worker thread: this one keeps heartbeating and hears cancellation.
    const results = await runComputeInWorker<FolderGeneration, TextSample[]>(GENERATE_WORKER, 'generateFromFolder', {
      dir,
      prompts: input.prompts,
      temperature: input.temperature,
      topK: input.topK,
      topP: input.topP,
      maxNewTokens: input.maxNewTokens,
      seed,
    });
    const samples = results.map((r) => ({ prompt: r.prompt, text: r.text }));
    // A retry that lost the race to commit returns the winner's samples: one release per sample job.
    const { manifest: committed } = await commitOnce(store, prefix, async (w) => {
      await w.putJson(SAMPLES_FILE, { modelId: input.modelId, samples });
      return { modelId: input.modelId, count: samples.length };
    });
    return storedSamples(store, committed);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

