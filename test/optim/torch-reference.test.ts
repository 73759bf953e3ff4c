// The optimizers against torch.optim on the committed fixture (test/fixtures/optim/generate.py).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createOptimizer, type OptimizerConfig } from '../../engine/optim/index.ts';

interface Case {
  name: string;
  config: OptimizerConfig;
  decayMask: boolean[];
  lrs: number[];
  initialParams: number[][];
  grads: number[][][];
  paramsAfterStep: number[][][];
  finalState: Record<string, number[][]>;
}

const fixture = JSON.parse(readFileSync(new URL('../fixtures/optim/torch-reference.json', import.meta.url), 'utf8')) as { cases: Case[] };

// torch computes in float32, we compute one update in float64 and round: agreement to a few float32 ulps of the values (momentum sums cancel, hence 1.5e-6).
function assertClose(actual: ArrayLike<number>, expected: readonly number[], what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    const tolerance = 1.5e-6 * Math.max(1, Math.abs(expected[i]));
    assert.ok(Math.abs(actual[i] - expected[i]) <= tolerance, `${what}[${i}]: ${actual[i]} vs torch ${expected[i]}`);
  }
}

for (const c of fixture.cases) {
  void test(`${c.name} matches torch step by step`, async () => {
    const params = c.initialParams.map((p) => Float32Array.from(p));
    const optimizer = createOptimizer(c.config, params.map((p) => p.length), c.decayMask);
    for (const [step, stepGrads] of c.grads.entries()) {
      await optimizer.step(params, stepGrads.map((g) => Float32Array.from(g)), c.lrs[step]);
      params.forEach((p, k) => assertClose(p, c.paramsAfterStep[step][k], `step ${step} param ${k}`));
    }
    const state = optimizer.state();
    assert.equal(state.stepCount, c.grads.length);
    assert.deepEqual(Object.keys(state.slots).sort(), Object.keys(c.finalState).sort());
    for (const [slot, buffers] of Object.entries(c.finalState)) {
      buffers.forEach((expected, k) => assertClose(state.slots[slot][k], expected, `${slot}[${k}]`));
    }
  });
}

void test('the fixture covers both optimizers and moves the parameters', () => {
  assert.ok(fixture.cases.some((c) => c.config.kind === 'adamw'));
  assert.ok(fixture.cases.some((c) => c.config.kind === 'sgd'));
  for (const c of fixture.cases) assert.notDeepEqual(c.paramsAfterStep.at(-1), c.initialParams);
});
