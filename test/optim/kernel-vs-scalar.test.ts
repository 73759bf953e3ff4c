// The vectorised optimizer kernels against the plain scalar formulas they implement (AdamW in
// float32, each operation rounded; SGD in float64 arithmetic with float32 storage; as adamw.ts and
// sgd.ts state them): equal bit for bit, on tensors of odd and even lengths, over several steps,
// with and without weight decay.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createOptimizer, type OptimizerConfig } from '../../engine/optim/index.ts';

const sizes = [1, 4097, 10_000, 3];
const decayMask = [true, true, false, true];
const lrs = [1e-3, 3e-3, 2e-3, 5e-4];

function values(seed: number, n: number, scale: number): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => Math.sin(seed * 12.9898 + i * 78.233) * scale);
}

function scalarAdamW(config: { betas: [number, number]; eps: number; weightDecay: number }, params: Float32Array[], gradsPerStep: Float32Array[][]): Float32Array[] {
  const [b1, b2] = config.betas;
  const m = params.map((p) => new Float32Array(p.length));
  const v = params.map((p) => new Float32Array(p.length));
  gradsPerStep.forEach((grads, s) => {
    const t = s + 1;
    const lr = lrs[s];
    const stepSize = lr / (1 - b1 ** t);
    const bias2Sqrt = Math.sqrt(1 - b2 ** t);
    // float32 operations: each float64 result of two float32 operands rounded once is the
    // correctly rounded float32 result (float64 has more than twice float32's precision).
    const f = Math.fround;
    const [B1, C1, B2, C2, eps, step, b2Sqrt] = [b1, 1 - b1, b2, 1 - b2, config.eps, stepSize, bias2Sqrt].map(f);
    params.forEach((p, k) => {
      const shrink = f(decayMask[k] ? 1 - lr * config.weightDecay : 1);
      for (let i = 0; i < p.length; i++) {
        const g = grads[k][i];
        m[k][i] = f(f(B1 * m[k][i]) + f(C1 * g));
        v[k][i] = f(f(B2 * v[k][i]) + f(f(C2 * g) * g));
        p[i] = f(f(p[i] * shrink) - f(f(step * m[k][i]) / f(f(f(Math.sqrt(v[k][i])) / b2Sqrt) + eps)));
      }
    });
  });
  return [...params, ...m, ...v];
}

function scalarSgd(config: { momentum: number; dampening: number; nesterov: boolean; weightDecay: number }, params: Float32Array[], gradsPerStep: Float32Array[][]): Float32Array[] {
  const mu = config.momentum;
  const b = params.map((p) => new Float32Array(p.length));
  gradsPerStep.forEach((grads, s) => {
    const lr = lrs[s];
    params.forEach((p, k) => {
      const wd = decayMask[k] ? config.weightDecay : 0;
      for (let i = 0; i < p.length; i++) {
        if (mu === 0) {
          p[i] -= lr * (grads[k][i] + wd * p[i]);
          continue;
        }
        const d = Math.fround(grads[k][i] + wd * p[i]);
        b[k][i] = Math.fround(s === 0 ? d : mu * b[k][i] + (1 - config.dampening) * d);
        p[i] -= lr * (config.nesterov ? d + mu * b[k][i] : b[k][i]);
      }
    });
  });
  return mu === 0 ? params : [...params, ...b];
}

const cases: { config: OptimizerConfig; reference: (p: Float32Array[], g: Float32Array[][]) => Float32Array[] }[] = [
  { config: { kind: 'adamw', betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0.01 }, reference: (p, g) => scalarAdamW({ betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0.01 }, p, g) },
  { config: { kind: 'adamw', betas: [0.8, 0.95], eps: 1e-6, weightDecay: 0.3 }, reference: (p, g) => scalarAdamW({ betas: [0.8, 0.95], eps: 1e-6, weightDecay: 0.3 }, p, g) },
  { config: { kind: 'sgd', weightDecay: 0.05 }, reference: (p, g) => scalarSgd({ momentum: 0, dampening: 0, nesterov: false, weightDecay: 0.05 }, p, g) },
  { config: { kind: 'sgd', momentum: 0.9, dampening: 0.1, weightDecay: 0.01 }, reference: (p, g) => scalarSgd({ momentum: 0.9, dampening: 0.1, nesterov: false, weightDecay: 0.01 }, p, g) },
  { config: { kind: 'sgd', momentum: 0.9, nesterov: true, weightDecay: 0.01 }, reference: (p, g) => scalarSgd({ momentum: 0.9, dampening: 0, nesterov: true, weightDecay: 0.01 }, p, g) },
];

for (const { config, reference } of cases) {
  void test(`${JSON.stringify(config)}: the kernel equals the scalar formula bit for bit`, async () => {
    const gradsPerStep = lrs.map((_, s) => sizes.map((n, k) => values(100 * s + k, n, s === 2 ? 1e-3 : 2)));
    const expected = reference(sizes.map((n, k) => values(k + 7, n, 0.5)), gradsPerStep);
    const params = sizes.map((n, k) => values(k + 7, n, 0.5));
    const optimizer = createOptimizer(config, sizes, decayMask);
    for (const [s, grads] of gradsPerStep.entries()) await optimizer.step(params, grads, lrs[s]);
    const state = optimizer.state();
    const actual = [...params, ...Object.keys(state.slots).sort().flatMap((slot) => state.slots[slot])];
    assert.equal(actual.length, expected.length);
    actual.forEach((a, k) => {
      assert.ok(Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(expected[k].buffer)), `tensor ${k} differs from the scalar formula`);
    });
    assert.notDeepEqual(params[1], values(8, sizes[1], 0.5), 'the parameters moved');
  });
}
