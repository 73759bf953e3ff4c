// A random base model is drawn in a worker thread that writes the folder itself: the files are
// byte for byte those the same draw writes on this thread (so a seed gives the weights it always
// gave), and while a model large enough to take seconds is drawn, the event loop's largest delay
// (perf_hooks' monitorEventLoopDelay) stays under a bound that the same draw on the loop exceeds.
// No servers needed: a random base reads nothing from S3.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { after, test } from 'node:test';
import { drawRandomModel, materializeBaseModel } from '../../activities/training/base-model.ts';
import { loadCheckpoint, presetConfig, randomWeights, saveCheckpoint, type Gpt2Config } from '../../engine/gpt2/index.ts';
import type { ArtifactStore } from '../../infra/storage/index.ts';
import { uniqueName } from '../helpers/names.ts';

// GPT-2 medium's width and vocabulary with 2 blocks: 77 M values. Drawn on the loop, its longest
// stall was 0.39 s on a quiet build machine (more layers do not lengthen it); off it, 18-21 ms.
const config: Gpt2Config = { ...presetConfig('gpt2-medium'), nLayer: 2 };
/** The largest event-loop delay allowed while the thread draws; drawing on the loop blocks it far longer. */
const LOOP_DELAY_BOUND_MS = 200;
const SEED = 'base-model-off-thread';
const cleanup: string[] = [];

after(async () => {
  for (const dir of cleanup) await rm(dir, { recursive: true, force: true });
});

async function scratch(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'veil-base-thread-'));
  cleanup.push(dir);
  return dir;
}

/** sha256 of every file of a folder, by name. */
async function digests(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const name of (await readdir(dir)).sort()) {
    const hash = createHash('sha256');
    for await (const chunk of createReadStream(join(dir, name))) hash.update(chunk as Buffer);
    out.set(name, hash.digest('hex'));
  }
  return out;
}

/** Runs `work` and returns the largest delay the event loop saw meanwhile. */
async function maxLoopDelayMs(work: () => Promise<void>): Promise<number> {
  const monitor = monitorEventLoopDelay({ resolution: 10 });
  monitor.enable();
  try {
    await work();
    return monitor.max / 1e6;
  } finally {
    monitor.disable();
  }
}

test('a random:<size> base is the seeded randomWeights, written by the worker thread', async () => {
  const jobId = uniqueName('base-thread');
  // A random base reads nothing from the store.
  const dir = await materializeBaseModel(undefined as unknown as ArtifactStore, { base: 'random:tiny', seed: SEED }, jobId);
  cleanup.push(dir);
  const expected = randomWeights(presetConfig('tiny'), SEED);
  const loaded = await loadCheckpoint(dir);
  assert.deepEqual(loaded.config, presetConfig('tiny'));
  assert.deepEqual([...loaded.weights.keys()], [...expected.keys()]);
  for (const [name, t] of expected) {
    const got = loaded.weights.get(name)!;
    assert.deepEqual(got.shape, t.shape, name);
    assert.ok(Buffer.from(got.data.buffer, got.data.byteOffset, got.data.byteLength).equals(Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength)), `${name} differs`);
  }
  // Another seed draws other weights: the comparison above can tell them apart.
  const other = randomWeights(presetConfig('tiny'), `${SEED}-other`).get('h.0.attn.c_attn.weight')!.data;
  assert.notDeepEqual(Array.from(other.subarray(0, 8)), Array.from(loaded.weights.get('h.0.attn.c_attn.weight')!.data.subarray(0, 8)));
});

test('drawing off the thread keeps the event loop free and writes the same files as drawing on it', async (t) => {
  const inline = await scratch();
  const inlineDelay = await maxLoopDelayMs(() => saveCheckpoint(inline, { config, weights: randomWeights(config, SEED) }));
  const threaded = await scratch();
  const threadedDelay = await maxLoopDelayMs(() => drawRandomModel({ dir: threaded, config, seed: SEED }));
  t.diagnostic(`largest event-loop delay: ${inlineDelay.toFixed(0)} ms drawing on the loop, ${threadedDelay.toFixed(0)} ms off it`);
  assert.ok(inlineDelay > LOOP_DELAY_BOUND_MS, `the draw on the loop blocked it only ${inlineDelay.toFixed(0)} ms: too small a model to tell`);
  assert.ok(threadedDelay < LOOP_DELAY_BOUND_MS, `the event loop was blocked ${threadedDelay.toFixed(0)} ms while the thread drew (on the loop: ${inlineDelay.toFixed(0)} ms)`);
  assert.deepEqual(await digests(threaded), await digests(inline));
});
