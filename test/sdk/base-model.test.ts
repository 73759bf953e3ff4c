// Honest model names: a pretrained GPT-2 name is the cached checkpoint or a refusal that says where
// Veil looked and how to provide it; random weights only ever come from `random:<size>` (or the
// random-only test sizes tiny and micro); the schema refuses unknown names at validation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { baseModelInitialization, resolveBaseModel } from '../../activities/training/base-model.ts';
import { baseModelSchema } from '../../contracts/fine-tune.ts';

async function withHubCache<T>(fn: (cache: string) => T | Promise<T>): Promise<T> {
  const cache = await mkdtemp(join(tmpdir(), 'veil-hf-'));
  const before = process.env.HF_HUB_CACHE;
  process.env.HF_HUB_CACHE = cache;
  try {
    return await fn(cache);
  } finally {
    if (before === undefined) delete process.env.HF_HUB_CACHE;
    else process.env.HF_HUB_CACHE = before;
  }
}

test('a pretrained name missing from the cache is refused, non-retryable, naming the cache and random:<size>', async () => {
  await withHubCache((cache) => {
    for (const size of ['gpt2', 'gpt2-xl']) {
      assert.throws(
        () => resolveBaseModel(size),
        (err: unknown) => {
          assert.ok(err instanceof ApplicationFailure);
          assert.equal(err.type, 'ModelNotFound');
          assert.equal(err.nonRetryable, true);
          assert.ok(err.message.includes(cache), 'says where it looked');
          assert.ok(err.message.includes(`models--openai-community--${size}`));
          assert.ok(err.message.includes(`random:${size}`), 'says how to ask for random weights');
          assert.match(err.message, /HF_HOME|HF_HUB_CACHE/);
          return true;
        },
      );
    }
  });
});

test('a pretrained name found in the cache resolves to its snapshot', async () => {
  await withHubCache(async (cache) => {
    const repo = join(cache, 'models--openai-community--gpt2');
    const snapshot = join(repo, 'snapshots', 'abc123');
    await mkdir(snapshot, { recursive: true });
    await mkdir(join(repo, 'refs'), { recursive: true });
    await writeFile(join(repo, 'refs', 'main'), 'abc123');
    await writeFile(join(snapshot, 'config.json'), '{}');
    assert.deepEqual(resolveBaseModel('gpt2'), { initialization: 'pretrained', size: 'gpt2', dir: snapshot });
  });
});

test('random weights only when asked: random:<size>, or the random-only sizes tiny and micro', async () => {
  await withHubCache(() => {
    assert.deepEqual(resolveBaseModel('random:gpt2-xl'), { initialization: 'random', size: 'gpt2-xl' });
    assert.deepEqual(resolveBaseModel('random:tiny'), { initialization: 'random', size: 'tiny' });
    assert.deepEqual(resolveBaseModel('tiny'), { initialization: 'random', size: 'tiny' });
    assert.deepEqual(resolveBaseModel('micro'), { initialization: 'random', size: 'micro' });
    assert.deepEqual(resolveBaseModel('models/job-1'), { initialization: 'registered', modelId: 'job-1' });
    assert.equal(baseModelInitialization('gpt2-medium'), 'pretrained');
    assert.throws(() => resolveBaseModel('random:gpt3'), (err: unknown) => err instanceof ApplicationFailure && err.type === 'ModelNotFound');
  });
});

test('the schema takes pretrained sizes, random:<size> and models/<id>, and refuses anything else', () => {
  for (const ok of ['gpt2', 'gpt2-xl', 'tiny', 'random:tiny', 'random:gpt2-xl', 'models/job-1']) assert.ok(baseModelSchema.safeParse(ok).success, ok);
  for (const bad of ['gpt3', 'random:', 'random:gpt3', 'random:models/x', 'models/', 'openai-community/gpt2']) {
    const parsed = baseModelSchema.safeParse(bad);
    assert.ok(!parsed.success, bad);
    assert.match(parsed.error.issues[0].message, /random:<size>/);
  }
});
