// AdamW's moments live in WebAssembly memory (engine/optim/moment-memory.ts), where the kernel
// updates them in place instead of copying blocks in and out. The in-place update must give the
// bits of the copying one (which a tensor too big for a memory still uses), including the padded
// lanes of a piece whose length is not a multiple of 4 (they must not reach the values after it), and
// moments that a live checkpoint moved away and put back must be taken back into the memory.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AdamW } from '../../engine/optim/adamw.ts';
import { RESIDENT_MOMENTS_MAX_BYTES, allocateMoments } from '../../engine/optim/moment-memory.ts';
import { OptimizerKernel } from '../../engine/optim/optimizer-kernel.ts';
import type { GradientPiece } from '../../engine/optim/types.ts';

const sizes = [1, 4097, 10_000, 3, 6];

function values(seed: number, n: number, scale: number): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => Math.sin(seed * 12.9898 + i * 78.233) * scale);
}

const bits = (x: Float32Array): Uint32Array => new Uint32Array(x.buffer, x.byteOffset, x.length);

const pieces: Record<string, ((k: number) => GradientPiece) | undefined> = {
  'as it is': undefined,
  scaled: () => ({ scale: 1 / 7 }),
  'noised and scaled': (k) => ({ scale: 1 / 7, noise: values(100 + k, sizes[k], 0.3) }),
};

for (const [name, piece] of Object.entries(pieces)) {
  void test(`AdamW with moments in kernel memory equals the copying update, gradient read ${name}`, async () => {
    const moments = allocateMoments(sizes);
    const plainM = sizes.map((n) => new Float32Array(n));
    const plainV = sizes.map((n) => new Float32Array(n));
    const inPlace = sizes.map((n, k) => values(k, n, 1));
    const copied = sizes.map((n, k) => values(k, n, 1));
    const plainKernel = await OptimizerKernel.load();
    for (let step = 1; step <= 3; step++) {
      const c = { beta1: 0.9, beta2: 0.999, eps: 1e-8, shrink: 0.99, stepSize: 1e-3 / (1 - 0.9 ** step), bias2Sqrt: Math.sqrt(1 - 0.999 ** step) };
      for (let k = 0; k < sizes.length; k++) {
        const grad = values(10 * step + k, sizes[k], 0.5);
        const memory = moments.memory;
        assert.ok(memory !== undefined && moments.expAvg[k].buffer === memory.buffer, `tensor ${k}'s moments live in a kernel memory`);
        const kernel = await OptimizerKernel.forMemory(memory);
        kernel.adamw(inPlace[k], grad, moments.expAvg[k], moments.expAvgSq[k], c, piece?.(k));
        plainKernel.adamw(copied[k], grad, plainM[k], plainV[k], c, piece?.(k));
      }
    }
    sizes.forEach((_, k) => {
      assert.deepEqual(bits(inPlace[k]), bits(copied[k]), `parameters of tensor ${k}`);
      assert.deepEqual(bits(moments.expAvg[k]), bits(plainM[k]), `exp_avg of tensor ${k}`);
      assert.deepEqual(bits(moments.expAvgSq[k]), bits(plainV[k]), `exp_avg_sq of tensor ${k}`);
    });
  });
}

void test('moments are packed without overlap, each starting on a lane', () => {
  const { expAvg, expAvgSq } = allocateMoments(sizes);
  const spans = [...expAvg, ...expAvgSq].map((x) => [x.byteOffset, x.byteOffset + Math.ceil(x.length / 4) * 16] as const).sort((a, b) => a[0] - b[0]);
  spans.forEach(([start], i) => {
    assert.equal(start % 16, 0, 'each moment starts on a lane boundary');
    if (i > 0) assert.ok(start >= spans[i - 1][1], 'a moment starts after the previous one and its padding');
  });
});

void test('moments a live checkpoint moved away and put back are taken back into kernel memory', async () => {
  const grads = (step: number) => sizes.map((n, k) => values(10 * step + k, n, 0.5));
  const straight = new AdamW(sizes, { kind: 'adamw' });
  const interrupted = new AdamW(sizes, { kind: 'adamw' });
  const pStraight = sizes.map((n, k) => values(k, n, 1));
  const pInterrupted = sizes.map((n, k) => values(k, n, 1));
  await straight.step(pStraight, grads(1), 1e-3);
  await interrupted.step(pInterrupted, grads(1), 1e-3);
  const state = interrupted.state();
  const own = state.slots.exp_avg.map((m) => m.buffer);
  // As restoreCheckpointTensors does: the lists now hold the arrays that came back.
  for (const slot of Object.values(state.slots)) slot.forEach((x, k) => (slot[k] = x.slice()));
  await straight.step(pStraight, grads(2), 1e-3);
  await interrupted.step(pInterrupted, grads(2), 1e-3);
  sizes.forEach((_, k) => assert.deepEqual(bits(pInterrupted[k]), bits(pStraight[k]), `parameters of tensor ${k} after the checkpoint`));
  assert.deepEqual(interrupted.state().slots.exp_avg.map((m) => m.buffer), own, 'the state points into the kernel memory again');
  assert.deepEqual(interrupted.state().slots.exp_avg.map(bits), straight.state().slots.exp_avg.map(bits));
});

void test('moments beyond the resident bound stay ordinary arrays (a live checkpoint moves them without a copy)', () => {
  const n = RESIDENT_MOMENTS_MAX_BYTES / 8 + 4; // two moments of n float32 values: just over the bound
  const { memory, expAvg, expAvgSq } = allocateMoments([n]);
  assert.equal(memory, undefined);
  assert.ok(!(expAvg[0].buffer instanceof SharedArrayBuffer) && expAvg[0].byteOffset === 0 && expAvg[0].buffer.byteLength === 4 * n, 'an array of its own');
  assert.equal(expAvgSq[0].length, n);
  const resumed = { expAvg: [new Float32Array(n)], expAvgSq: [new Float32Array(n)] };
  const adopted = allocateMoments([n], resumed);
  assert.ok(adopted.expAvg[0] === resumed.expAvg[0] && adopted.expAvgSq[0] === resumed.expAvgSq[0], 'resumed moments are adopted, not copied');
});
