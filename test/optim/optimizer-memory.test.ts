// Optimizer state in an OptimizerMemory is updated in place by the kernel instead of being copied
// through its scratch: the same bits as ordinary arrays, step after step, however the gradient's
// pieces cut the tensors (a piece ending inside a four-value lane must not update the next
// piece's values early), and the gradient is only read.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OptimizerMemory, createOptimizer, scaledGradient, type GradientTransform, type Optimizer, type OptimizerConfig } from '../../engine/optim/index.ts';

const sizes = [4099, 13, 8195, 1, 4096];
const decayMask = [true, false, true, true, false];

function values(seed: number, n: number, scale: number): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => Math.sin(seed * 12.9898 + i * 78.233) * scale);
}

function bytes(arrays: readonly Float32Array[]): Buffer {
  return Buffer.concat(arrays.map((a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength)));
}

/** Noise in pieces of `pieceLength` over the tensors taken end to end, as the noise prefetcher hands them out. */
function noisyPieces(seed: number, pieceLength: number, scale: number): GradientTransform {
  return {
    async forEachPiece(lengths, visit) {
      let flat = 0;
      for (const [k, n] of lengths.entries()) {
        let start = 0;
        while (start < n) {
          const length = Math.min(n - start, pieceLength - ((flat + start) % pieceLength));
          visit(k, start, length, scale, values(seed + flat + start, length, 0.3));
          start += length;
        }
        flat += n;
      }
      await Promise.resolve();
    },
  };
}

const transforms: [string, (step: number) => GradientTransform | undefined][] = [
  ['no transform', () => undefined],
  ['a batch mean', () => scaledGradient(1 / 7)],
  ['noise in pieces of 1001', (step) => noisyPieces(step * 31, 1001, 1 / 24)],
];
interface Side { params: Float32Array[]; grads: Float32Array[]; optimizer: Optimizer }

const configs: OptimizerConfig[] = [{ kind: 'adamw', weightDecay: 0.1 }, { kind: 'sgd', momentum: 0.9, weightDecay: 0.01 }, { kind: 'sgd', weightDecay: 0.01 }];

for (const config of configs) {
  for (const [name, transform] of transforms) {
    void test(`${config.kind}${config.kind === 'sgd' && config.momentum ? ' with momentum' : ''}, ${name}: state in optimizer memory gives the bits of ordinary arrays`, async () => {
      const memory = (await OptimizerMemory.reserve([...sizes, ...sizes, ...sizes]))!;
      const plain: Side = { params: sizes.map((n, k) => values(k, n, 1)), grads: sizes.map(() => new Float32Array(0)), optimizer: createOptimizer(config, sizes, decayMask) };
      const inMemory: Side = { params: sizes.map((n, k) => values(k, n, 1)), grads: sizes.map((n) => memory.allocate(n)), optimizer: createOptimizer(config, sizes, decayMask, undefined, memory) };
      for (const slot of Object.values(inMemory.optimizer.state().slots).flat()) assert.ok(OptimizerMemory.holds(slot));
      for (let step = 0; step < 3; step++) {
        plain.grads = sizes.map((n, k) => values(100 * step + k, n, 0.05));
        plain.grads.forEach((g, k) => inMemory.grads[k].set(g));
        const gradsBefore = bytes(inMemory.grads);
        await plain.optimizer.step(plain.params, plain.grads, 1e-2, transform(step));
        await inMemory.optimizer.step(inMemory.params, inMemory.grads, 1e-2, transform(step));
        assert.ok(bytes(inMemory.params).equals(bytes(plain.params)), `parameters differ after step ${step}`);
        const slots = (o: Side) => bytes(Object.values(o.optimizer.state().slots).flat());
        assert.ok(slots(inMemory).equals(slots(plain)), `optimizer state differs after step ${step}`);
        assert.ok(bytes(inMemory.grads).equals(gradsBefore), 'the gradient was written');
      }
      assert.ok(!bytes(inMemory.params).equals(bytes(sizes.map((n, k) => values(k, n, 1)))), 'the parameters moved');
    });
  }
}

void test('an optimizer memory resumes from saved state by copying it in, and refuses what it did not reserve', async () => {
  const memory = (await OptimizerMemory.reserve([10, 10]))!;
  const saved = { kind: 'adamw' as const, stepCount: 4, slots: { exp_avg: [values(1, 10, 0.1)], exp_avg_sq: [values(2, 10, 0.01).map(Math.abs)] } };
  const optimizer = createOptimizer({ kind: 'adamw' }, [10], undefined, saved, memory);
  const state = optimizer.state();
  assert.equal(state.stepCount, 4);
  assert.ok(OptimizerMemory.holds(state.slots.exp_avg[0]) && state.slots.exp_avg[0] !== saved.slots.exp_avg[0]);
  assert.ok(bytes(state.slots.exp_avg).equals(bytes(saved.slots.exp_avg)));
  assert.throws(() => memory.allocate(1 << 20), /do not fit/);
  assert.equal(OptimizerMemory.holds(new Float32Array(4)), false);
});

void test('a state past 4 GiB gets no optimizer memory (the trainer then keeps ordinary arrays)', async () => {
  assert.equal(await OptimizerMemory.reserve([2 ** 29, 2 ** 29]), undefined); // 2 × 2 GiB
  assert.ok(await OptimizerMemory.reserve([2 ** 28]));
});

void test('state past the first 2 GiB of an optimizer memory (addresses above the signed 32-bit range) gets the bits of ordinary arrays', async () => {
  const far = 2 ** 29 + 1024; // values: 2 GiB and a little, left untouched (the system maps pages as they are written)
  const n = 4099;
  const memory = (await OptimizerMemory.reserve([far, n, n, n]))!;
  memory.allocate(far);
  const grads = memory.allocate(n);
  const optimizer = createOptimizer({ kind: 'adamw' }, [n], undefined, undefined, memory);
  assert.ok(grads.byteOffset > 2 ** 31 && optimizer.state().slots.exp_avg[0].byteOffset > 2 ** 31);
  const plain = createOptimizer({ kind: 'adamw' }, [n]);
  const [p1, p2] = [values(1, n, 1), values(1, n, 1)];
  for (let step = 0; step < 2; step++) {
    const g = values(9 + step, n, 0.05);
    grads.set(g);
    await plain.step([p1], [g], 1e-2, noisyPieces(step, 1001, 1 / 8));
    await optimizer.step([p2], [grads], 1e-2, noisyPieces(step, 1001, 1 / 8));
    await plain.step([p1], [g], 1e-2);
    await optimizer.step([p2], [grads], 1e-2);
  }
  assert.ok(bytes([p2]).equals(bytes([p1])));
  assert.ok(bytes(Object.values(optimizer.state().slots).flat()).equals(bytes(Object.values(plain.state().slots).flat())));
});
