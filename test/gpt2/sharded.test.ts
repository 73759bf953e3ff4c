// Models in transformers' sharded layout: Veil opens a folder transformers saved with
// max_shard_size (as is, and in the Hugging Face cache layout of blobs and snapshot symlinks) to
// transformers' logits, and cuts the same weights into the same shards with the same index.
// The fixture is made by test/fixtures/gpt2-sharded/make_fixture.py; the check that transformers
// opens Veil's own sharded save runs where a Python with transformers exists (bench/.venv).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadCheckpoint, resolveModelDir, saveCheckpoint } from '../../engine/gpt2/checkpoint.ts';
import { Gpt2Model } from '../../engine/gpt2/model.ts';
import { INDEX_FILE, hfShardName, isModelWeightFile, modelShardBytes, planHfShards } from '../../engine/gpt2/sharded.ts';
import { benchPython } from '../../bench/python/python.ts';

const fixtureDir = fileURLToPath(new URL('../fixtures/gpt2-sharded/', import.meta.url));
const hfDir = join(fixtureDir, 'hf-sharded');
const expected = JSON.parse(readFileSync(join(fixtureDir, 'expected.json'), 'utf8')) as {
  max_shard_bytes: number;
  ids: number[];
  logits: number[];
  weight_map: Record<string, string>;
  total_size: number;
};
const TOLERANCE = 1e-5;

const python = benchPython();
const hasTransformers = existsSync(python) && spawnSync(python, ['-c', 'import torch, transformers'], { stdio: 'ignore' }).status === 0;

function assertClose(actual: ArrayLike<number>, wanted: readonly number[], what: string): void {
  assert.equal(actual.length, wanted.length, what);
  let worst = 0;
  for (let i = 0; i < wanted.length; i++) worst = Math.max(worst, Math.abs(actual[i] - wanted[i]));
  assert.ok(worst < TOLERANCE, `${what}: largest logit difference ${worst}`);
}

async function lastLogits(spec: string): Promise<Float32Array> {
  const model = await Gpt2Model.load(spec);
  try {
    const logits = await model.sequenceLogits(expected.ids);
    return logits.slice((expected.ids.length - 1) * expected.logits.length);
  } finally {
    await model.release();
  }
}

/** A Hugging Face cache holding `src` as repo `org/name`: content-addressed blobs, a snapshot of symlinks, refs/main. */
async function asHfCache(src: string, repo: string): Promise<string> {
  const cache = await mkdtemp(join(tmpdir(), 'veil-hf-cache-'));
  const repoDir = join(cache, `models--${repo.replace('/', '--')}`);
  const revision = 'a'.repeat(40);
  await mkdir(join(repoDir, 'blobs'), { recursive: true });
  await mkdir(join(repoDir, 'snapshots', revision), { recursive: true });
  await mkdir(join(repoDir, 'refs'), { recursive: true });
  for (const file of readdirSync(src)) {
    const bytes = await readFile(join(src, file));
    const blob = createHash('sha256').update(bytes).digest('hex');
    await writeFile(join(repoDir, 'blobs', blob), bytes);
    await symlink(join('..', '..', 'blobs', blob), join(repoDir, 'snapshots', revision, file));
  }
  await writeFile(join(repoDir, 'refs', 'main'), revision);
  return cache;
}

void test("Veil opens transformers' sharded folder to transformers' logits", async () => {
  assert.ok(new Set(Object.values(expected.weight_map)).size > 1, 'the fixture is sharded');
  assert.equal(existsSync(join(hfDir, 'model.safetensors')), false);
  assertClose(await lastLogits(hfDir), expected.logits, 'folder');
});

void test('and from the Hugging Face cache layout (blobs, snapshot symlinks, refs/main), by hub id', async () => {
  const cache = await asHfCache(hfDir, 'veil-test/micro-sharded');
  try {
    const snapshot = resolveModelDir('veil-test/micro-sharded', { HF_HUB_CACHE: cache });
    assert.ok(snapshot.startsWith(cache) && snapshot.includes('snapshots'));
    const loaded = await loadCheckpoint('veil-test/micro-sharded', { HF_HUB_CACHE: cache });
    assert.equal(loaded.weights.size, Object.keys(expected.weight_map).length);
    const model = await Gpt2Model.create(loaded);
    try {
      const logits = await model.sequenceLogits(expected.ids);
      assertClose(logits.slice((expected.ids.length - 1) * expected.logits.length), expected.logits, 'cache snapshot');
    } finally {
      await model.release();
    }
  } finally {
    await rm(cache, { recursive: true, force: true });
  }
});

// onnxruntime refuses to map a snapshot's symlinks into ../../blobs ("External data path escapes
// model directory"): engine/gpt2/weight-source.ts maps the blobs in their real folder.
void test('Gpt2Model.load maps the weights of a cache snapshot (symlinks into blobs/)', async () => {
  const cache = await asHfCache(hfDir, 'veil-test/micro-sharded');
  try {
    assertClose(await lastLogits(resolveModelDir('veil-test/micro-sharded', { HF_HUB_CACHE: cache })), expected.logits, 'mapped cache snapshot');
  } finally {
    await rm(cache, { recursive: true, force: true });
  }
});

void test('saving at the same shard size gives the shards and index transformers wrote, and loads back bit for bit', async () => {
  const original = await loadCheckpoint(hfDir);
  const dir = await mkdtemp(join(tmpdir(), 'veil-sharded-save-'));
  try {
    await saveCheckpoint(dir, original, { maxShardBytes: expected.max_shard_bytes, tokenizer: false });
    assert.equal(existsSync(join(dir, 'model.safetensors')), false);
    const index = JSON.parse(await readFile(join(dir, INDEX_FILE), 'utf8')) as { metadata: { total_size: number }; weight_map: Record<string, string> };
    assert.deepEqual(index.weight_map, expected.weight_map);
    assert.equal(index.metadata.total_size, expected.total_size);
    for (const file of readdirSync(dir)) assert.equal(isModelWeightFile(file), file.endsWith('.safetensors') || file === INDEX_FILE, file);
    const reloaded = await loadCheckpoint(dir);
    assert.deepEqual(reloaded.config, original.config);
    for (const [name, t] of original.weights) assert.deepEqual(reloaded.weights.get(name)?.data, t.data, name);
    // Above the weights' size, one model.safetensors as before.
    const single = join(dir, 'single');
    await saveCheckpoint(single, original, { maxShardBytes: expected.total_size, tokenizer: false });
    assert.deepEqual(readdirSync(single).filter(isModelWeightFile), ['model.safetensors']);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

void test('shard planning: in order, never above the limit unless one tensor is, names as transformers writes them', () => {
  const t = (n: number) => ({ data: new Float32Array(n) });
  const plan = planHfShards([['a', t(10)], ['b', t(30)], ['c', t(5)], ['d', t(4)], ['e', t(1)]], 40 * 4);
  assert.deepEqual(plan.map((s) => s.map(([n]) => n)), [['a', 'b'], ['c', 'd', 'e']]);
  assert.deepEqual(planHfShards([['a', t(2)], ['big', t(50)], ['c', t(2)]], 40).map((s) => s.map(([n]) => n)), [['a'], ['big'], ['c']]);
  assert.equal(hfShardName(0, 12), 'model-00001-of-00012.safetensors');
  assert.equal(modelShardBytes({}), 512 * 1024 * 1024);
  assert.equal(modelShardBytes({ VEIL_MODEL_SHARD_BYTES: '1000' }), 1000);
  assert.throws(() => modelShardBytes({ VEIL_MODEL_SHARD_BYTES: 'lots' }));
});

void test('transformers opens a model Veil saved in shards, unchanged, to the same logits', { skip: hasTransformers ? false : `no Python with transformers at ${python}` }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'veil-sharded-hf-'));
  try {
    await saveCheckpoint(dir, await loadCheckpoint(hfDir), { maxShardBytes: expected.max_shard_bytes });
    const r = spawnSync(python, [join(fixtureDir, 'check_sharded.py'), dir, expected.ids.join(',')], { encoding: 'utf8', maxBuffer: 1 << 26 });
    assert.equal(r.status, 0, r.stderr);
    const hf = JSON.parse(r.stdout) as { logits: number[]; shards: string[] };
    assert.deepEqual(hf.shards, [...new Set(Object.values(expected.weight_map))].sort());
    assertClose(hf.logits, expected.logits, 'transformers on Veil\'s shards');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
