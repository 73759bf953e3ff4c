// An optimizer given a gradient transform applies it as it reads the gradient: the update equals
// transforming the gradient first (g ← fround((g + n)·scale) with DP noise, fround(g·scale) for a
// non-private mean, float64 rounded once) and then stepping, bit for bit, for AdamW and SGD with
// momentum, with the noise in pieces that cut across tensors and blocks; the gradient buffers are
// left as they were.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createOptimizer, scaledGradient, type GradientTransform, type OptimizerConfig } from '../../engine/optim/index.ts';

const sizes = [1, 4097, 10_000, 3, 0, 6001];
const total = sizes.reduce((a, b) => a + b, 0);
const values = (seed: number, n: number, scale: number): Float32Array => Float32Array.from({ length: n }, (_, i) => Math.sin(seed * 12.9898 + i * 78.233) * scale);
const split = (flat: Float32Array): Float32Array[] => {
  let at = 0;
  return sizes.map((n) => flat.slice(at, (at += n)));
};

/** The flat noise in pieces of `piece` values at most, ending at every tensor's end, in order. */
function noiseIn(flat: Float32Array, scale: number, piece: number): GradientTransform {
  return {
    async forEachPiece(lengths, visit) {
      let at = 0;
      for (const [k, n] of lengths.entries()) {
        for (let start = 0; start < n; start += piece) {
          await Promise.resolve(); // as the prefetcher, which may wait for a chunk between pieces
          const length = Math.min(piece, n - start);
          visit(k, start, length, scale, flat.subarray(at + start, at + start + length));
        }
        at += n;
      }
    },
  };
}

const bits = (xs: readonly Float32Array[]): Buffer => Buffer.concat(xs.map((x) => Buffer.from(x.buffer, x.byteOffset, x.byteLength)));

for (const config of [{ kind: 'adamw', weightDecay: 0.1 }, { kind: 'sgd', momentum: 0.9, weightDecay: 0.01 }] as OptimizerConfig[]) {
  void test(`${config.kind}: noise added while reading the gradient equals privatizing first, bit for bit`, async () => {
    const scale = 1 / 12.5;
    const plain = createOptimizer(config, sizes);
    const fused = createOptimizer(config, sizes);
    const paramsPlain = split(values(1, total, 0.5));
    const paramsFused = paramsPlain.map((p) => p.slice());
    for (const step of [0, 1, 2]) {
      const grads = split(values(10 + step, total, 3));
      const noise = values(20 + step, total, 1.7);
      const gradsBefore = bits(grads);
      const privatized = grads.map((g) => g.slice());
      let at = 0;
      for (const g of privatized) for (let i = 0; i < g.length; i++, at++) g[i] = Math.fround((g[i] + noise[at]) * scale);
      await plain.step(paramsPlain, privatized, 1e-3);
      await fused.step(paramsFused, grads, 1e-3, noiseIn(noise, scale, 1000 + 997 * step));
      assert.ok(bits(paramsFused).equals(bits(paramsPlain)), `step ${step}: parameters`);
      for (const [slot, buffers] of Object.entries(fused.state().slots)) assert.ok(bits(buffers).equals(bits(plain.state().slots[slot])), `step ${step}: ${slot}`);
      assert.ok(bits(grads).equals(gradsBefore), `step ${step}: the gradient buffers were written`);
    }
  });
}

for (const config of [{ kind: 'adamw', weightDecay: 0.1 }, { kind: 'sgd', momentum: 0.9, weightDecay: 0.01 }] as OptimizerConfig[]) {
  void test(`${config.kind}: a non-private mean read by the optimizer equals scaling the gradient first, bit for bit`, async () => {
    const plain = createOptimizer(config, sizes);
    const fused = createOptimizer(config, sizes);
    const paramsPlain = split(values(2, total, 0.5));
    const paramsFused = paramsPlain.map((p) => p.slice());
    for (const step of [0, 1]) {
      const rows = 3 + step * 4;
      const grads = split(values(30 + step, total, 5));
      grads[1][7] = -0; // a negative zero stays one
      const gradsBefore = bits(grads);
      const scaled = grads.map((g) => g.slice());
      for (const g of scaled) for (let i = 0; i < g.length; i++) g[i] *= 1 / rows; // the trainer's loop this replaced
      await plain.step(paramsPlain, scaled, 1e-3);
      await fused.step(paramsFused, grads, 1e-3, scaledGradient(1 / rows));
      assert.ok(bits(paramsFused).equals(bits(paramsPlain)), `step ${step}: parameters`);
      for (const [slot, buffers] of Object.entries(fused.state().slots)) assert.ok(bits(buffers).equals(bits(plain.state().slots[slot])), `step ${step}: ${slot}`);
      assert.ok(bits(grads).equals(gradsBefore), `step ${step}: the gradient buffers were written`);
    }
  });
}
