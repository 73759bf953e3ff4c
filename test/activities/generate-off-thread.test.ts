// The sampling activity generates in a worker thread: with a seed, its samples are exactly those
// the same model gives on this thread, it heartbeats while it works, and they are committed once.
// Needs the servers of `veil infra up`.
import assert from 'node:assert/strict';
import { createReadStream } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { MockActivityEnvironment } from '@temporalio/testing';
import { generateSamples, type GenerateSamplesInput } from '../../activities/sampling/generate.ts';
import { Gpt2Model, generateText, openCheckpoint, saveCheckpoint, type TextSample } from '../../engine/gpt2/index.ts';
import { modelPrefix, samplesPrefix, type ArtifactStore, type StoredObject } from '../../infra/storage/index.ts';
import { uniqueName } from '../helpers/names.ts';
import { testStore } from '../helpers/storage.ts';

const modelId = uniqueName('sample-thread');
const input: GenerateSamplesInput = { sampleId: uniqueName('sample-thread'), modelId, prompts: ['The patient', ''], temperature: 0.9, topK: 40, topP: 0.95, maxNewTokens: 12, seed: 'off-thread' };
let store: ArtifactStore;
let expected: TextSample[];

before(async () => {
  store = await testStore();
  const dir = await mkdtemp(join(tmpdir(), 'veil-sample-thread-'));
  try {
    await saveCheckpoint(dir, await openCheckpoint('random:tiny@sample-thread'));
    const objects: StoredObject[] = [];
    for (const file of (await readdir(dir)).sort()) objects.push(await store.putImmutable(`${modelPrefix(modelId)}/${file}`, createReadStream(join(dir, file))));
    await store.writeManifest(modelPrefix(modelId), objects, {});
    const model = await Gpt2Model.load(dir);
    try {
      const { prompts, temperature, topK, topP, maxNewTokens } = input;
      expected = await generateText(model, prompts, { temperature, topK, topP, maxNewTokens, seed: input.seed!, startOfDocument: true });
    } finally {
      await model.release();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

after(async () => {
  for (const prefix of [modelPrefix(modelId), samplesPrefix(input.sampleId)]) await store?.deletePrefix(prefix);
});

test('seeded samples from the worker thread are those of this thread, committed once', async () => {
  const env = new MockActivityEnvironment();
  let beats = 0;
  env.on('heartbeat', () => beats++);
  const out = (await env.run(generateSamples, input)) as Awaited<ReturnType<typeof generateSamples>>;
  assert.deepEqual(out.samples, expected.map((s) => ({ prompt: s.prompt, text: s.text })));
  assert.ok(beats >= 1, 'it heartbeats while the thread works');
  assert.equal(out.key, `${samplesPrefix(input.sampleId)}/samples.json`);
  // A retry returns the committed samples, even asked with another seed.
  assert.deepEqual(await new MockActivityEnvironment().run(generateSamples, { ...input, seed: 'another' }), out);
});
