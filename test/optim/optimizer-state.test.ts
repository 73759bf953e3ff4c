// Optimizer state is everything needed to continue: resuming from it is bit-identical.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AdamW, Sgd, createOptimizer, OptimizerStateError, type OptimizerConfig, type OptimizerState } from '../../engine/optim/index.ts';

function grads(step: number, sizes: number[]): Float32Array[] {
  return sizes.map((n, k) => Float32Array.from({ length: n }, (_, i) => Math.sin(step * 7.1 + k * 3.3 + i * 0.37)));
}

function copyState(state: OptimizerState): OptimizerState {
  return { ...state, slots: Object.fromEntries(Object.entries(state.slots).map(([slot, b]) => [slot, b.map((x) => x.slice())])) };
}

const configs: OptimizerConfig[] = [
  { kind: 'adamw', weightDecay: 0.1 },
  { kind: 'sgd', momentum: 0.9, weightDecay: 0.01 },
  { kind: 'sgd', momentum: 0.9, nesterov: true },
];

for (const config of configs) {
  void test(`${JSON.stringify(config)}: a resumed optimizer continues bit-identically`, async () => {
    const sizes = [17, 5];
    const straight = sizes.map((n) => new Float32Array(n).fill(0.5));
    const opt = createOptimizer(config, sizes);
    for (let s = 0; s < 6; s++) await opt.step(straight, grads(s, sizes), 0.01);

    const resumed = sizes.map((n) => new Float32Array(n).fill(0.5));
    const first = createOptimizer(config, sizes);
    for (let s = 0; s < 3; s++) await first.step(resumed, grads(s, sizes), 0.01);
    const second = createOptimizer(config, sizes, undefined, copyState(first.state()));
    for (let s = 3; s < 6; s++) await second.step(resumed, grads(s, sizes), 0.01);

    straight.forEach((p, k) => assert.deepEqual(Buffer.from(resumed[k].buffer), Buffer.from(p.buffer)));
  });
}

void test('resuming rejects state of the wrong kind or shape', () => {
  const adam = new AdamW([3], { kind: 'adamw' });
  assert.throws(() => new Sgd([3], { kind: 'sgd', momentum: 0.9 }, undefined, adam.state()), RangeError);
  assert.throws(() => new AdamW([4], { kind: 'adamw' }, undefined, adam.state()), OptimizerStateError);
  assert.throws(() => new Sgd([3], { kind: 'sgd', momentum: 0.9 }, undefined, { kind: 'sgd', stepCount: 1, slots: {} }), OptimizerStateError);
});

void test('weight decay skips masked tensors', async () => {
  const params = [new Float32Array([1, 1]), new Float32Array([1, 1])];
  const opt = new AdamW([2, 2], { kind: 'adamw', weightDecay: 0.5 }, [true, false]);
  await opt.step(params, [new Float32Array(2), new Float32Array(2)], 0.1);
  assert.deepEqual([...params[0]], [Math.fround(0.95), Math.fround(0.95)]);
  assert.deepEqual([...params[1]], [1, 1]);
});
