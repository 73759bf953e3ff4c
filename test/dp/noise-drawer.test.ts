// The noise worker's drawer: each chunk lands in its own slot with its own values, whenever the
// caller's messages come. The first test is how a fine-tune once came out different from itself:
// the next step was requested while the worker was still compiling its kernel.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setImmediate as tick } from 'node:timers/promises';
import { NOISE_CHUNK, RunKey, deriveStepKey, fillStepNoise } from '../../engine/dp/index.ts';
import { NoiseDrawer, type ChunkDrawer, type NoiseReply, type NoiseRequest } from '../../engine/dp/noise-drawer.ts';
import { NoiseKernel } from '../../engine/dp/noise-kernel.ts';

const key = new RunKey(new Uint8Array(32).fill(9));
const STD = 1.5;

function drawRequest(step: number, buffer: SharedArrayBuffer, totalValues: number, slots: number): NoiseRequest {
  return { type: 'draw', generation: 0, step, stepKey: deriveStepKey(key, 'noise', step), std: STD, buffer, totalValues, slots };
}

async function expectedNoise(step: number, values: number): Promise<Float32Array> {
  const out = new Float32Array(values);
  await fillStepNoise(key, step, out, STD);
  return out;
}

async function until(what: string, done: () => boolean): Promise<void> {
  for (let i = 0; i < 10_000 && !done(); i++) await tick();
  assert.ok(done(), `waited for ${what}`);
}

/** Lets the drawer do whatever it would do next (it yields between chunks). */
async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await tick();
}

const same = (a: Float32Array, b: Float32Array): boolean => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

void test('a step requested while the kernel is still compiling waits: the step before keeps its noise', async () => {
  // One chunk in one slot, as a small model's (3.3 M parameters): more than half a chunk, so
  // that a chunk drawn past the end of the step would overlap the slot.
  const values = 3_000_000;
  const buffer = new SharedArrayBuffer(values * 4);
  const ring = new Float32Array(buffer);
  let compiled!: (kernel: ChunkDrawer) => void;
  const replies: NoiseReply[] = [];
  const drawer = new NoiseDrawer(new Promise((resolve) => { compiled = resolve; }), (reply) => replies.push(reply));
  drawer.handle(drawRequest(0, buffer, values, 1));
  await tick(); // the worker takes up step 0 and waits for its kernel
  drawer.handle(drawRequest(1, buffer, values, 1)); // the caller's first gradients were quicker
  compiled(await NoiseKernel.load());
  await until('step 0 to be drawn', () => replies.length > 0);
  await settle(); // anything else the worker would do before the caller reads
  assert.deepEqual(replies, [{ generation: 0, step: 0, chunk: 0 }], 'step 0 drawn once; step 1 waits for its slot');
  assert.ok(same(ring, await expectedNoise(0, values)), "the slot holds step 0's noise");
  drawer.handle({ type: 'consumed', generation: 0, sequence: 1 });
  await until('step 1 to be drawn', () => replies.length > 1);
  assert.deepEqual(replies[1], { generation: 0, step: 1, chunk: 0 });
  assert.ok(same(ring, await expectedNoise(1, values)), "then step 1's");
});

void test('the drawer stays a ring ahead of the caller, each chunk in its slot, across two steps', async () => {
  const values = 2 * NOISE_CHUNK + 1000; // three chunks through two slots
  const buffer = new SharedArrayBuffer(2 * NOISE_CHUNK * 4);
  const ring = new Float32Array(buffer);
  const replies: NoiseReply[] = [];
  const drawer = new NoiseDrawer(NoiseKernel.load(), (reply) => replies.push(reply));
  drawer.handle(drawRequest(3, buffer, values, 2));
  drawer.handle(drawRequest(4, buffer, values, 2));
  let sequence = 0;
  for (const step of [3, 4]) {
    const expected = await expectedNoise(step, values);
    for (let chunk = 0; chunk < 3; chunk++, sequence++) {
      await until(`step ${step} chunk ${chunk}`, () => replies.length > sequence);
      await settle();
      assert.equal(replies.length, Math.min(sequence + 2, 6), `as far ahead of the caller as the ring allows, and no further (at sequence ${sequence})`);
      assert.deepEqual(replies[sequence], { generation: 0, step, chunk });
      const at = (sequence % 2) * NOISE_CHUNK;
      const length = Math.min(NOISE_CHUNK, values - chunk * NOISE_CHUNK);
      assert.ok(same(ring.subarray(at, at + length), expected.subarray(chunk * NOISE_CHUNK, chunk * NOISE_CHUNK + length)), `step ${step} chunk ${chunk} in slot ${sequence % 2}`);
      drawer.handle({ type: 'consumed', generation: 0, sequence: sequence + 1 });
    }
  }
});
