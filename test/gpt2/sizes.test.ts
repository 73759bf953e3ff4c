// The size names: small … xl are OpenAI's four GPT-2 shapes under their short names, and any
// Hugging Face GPT-2 config.json in a local folder names a shape too.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { canonicalGpt2Size, configToHf, gpt2ConfigOf, gpt2Presets, isGpt2Size, presetConfig } from '../../engine/gpt2/config.ts';
import { parameterCount } from '../../engine/gpt2/weights.ts';

test('small, medium, large and xl are the published shapes, by parameter count', () => {
  // transformers' GPT2LMHeadModel(num_parameters) for the four hub checkpoints.
  const expected = { small: 124_439_808, medium: 354_823_168, large: 774_030_080, xl: 1_557_611_200 };
  for (const [alias, count] of Object.entries(expected)) {
    assert.equal(parameterCount(presetConfig(alias)), count, alias);
    assert.deepEqual(presetConfig(alias), presetConfig(canonicalGpt2Size(alias)));
  }
  assert.deepEqual(
    Object.keys(expected).map(canonicalGpt2Size),
    ['gpt2', 'gpt2-medium', 'gpt2-large', 'gpt2-xl'],
  );
});

test('preset names stay as they are; unknown names are refused with the known ones', () => {
  for (const name of Object.keys(gpt2Presets)) {
    assert.equal(canonicalGpt2Size(name), name);
    assert.ok(isGpt2Size(name));
  }
  for (const bad of ['huge', 'toString', '__proto__', 'gpt2-small', '']) {
    assert.equal(isGpt2Size(bad), false, bad);
    assert.throws(() => presetConfig(bad), /unknown GPT-2 size .* \(known: small, medium, large, xl, gpt2/);
  }
  // The preset object is copied: a caller's change does not leak into the next caller's.
  presetConfig('large').nLayer = 1;
  assert.equal(presetConfig('large').nLayer, 36);
});

test('gpt2ConfigOf takes a size or an alias', () => {
  assert.deepEqual(gpt2ConfigOf('xl'), presetConfig('gpt2-xl'));
  assert.deepEqual(gpt2ConfigOf('micro'), gpt2Presets.micro);
});

test('a Hugging Face config.json in a local folder names its shape', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'veil-sizes-'));
  try {
    const shape = { ...presetConfig('medium'), nLayer: 3, nPositions: 256 };
    await writeFile(join(dir, 'config.json'), JSON.stringify(configToHf(shape)));
    assert.deepEqual(gpt2ConfigOf(dir), shape);
    assert.deepEqual(gpt2ConfigOf(join(dir, 'config.json')), shape);
    await writeFile(join(dir, 'config.json'), JSON.stringify({ ...configToHf(shape), model_type: 'llama' }));
    assert.throws(() => gpt2ConfigOf(dir), /model_type 'llama' is not gpt2/);
    assert.throws(() => gpt2ConfigOf(join(dir, 'missing')), /neither a GPT-2 size .* nor a folder with a config.json/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a fine-tune names sizes by the short names too: random:large is GPT-2 large, and large alone is looked up as gpt2-large', async () => {
  const { resolveBaseModel } = await import('../../activities/training/base-model.ts');
  const { baseModelSchema } = await import('../../contracts/fine-tune.ts');
  assert.deepEqual(resolveBaseModel('random:large'), { initialization: 'random', size: 'gpt2-large' });
  assert.ok(baseModelSchema.safeParse('xl').success && baseModelSchema.safeParse('random:medium').success);
  assert.equal(baseModelSchema.safeParse('toString').success, false);
  assert.throws(() => resolveBaseModel('random:toString'), /unknown base model/);
  const previous = process.env.HF_HUB_CACHE;
  process.env.HF_HUB_CACHE = '/nonexistent-veil-cache';
  try {
    assert.throws(() => resolveBaseModel('large'), /models--gpt2-large/);
  } finally {
    if (previous === undefined) delete process.env.HF_HUB_CACHE;
    else process.env.HF_HUB_CACHE = previous;
  }
});
