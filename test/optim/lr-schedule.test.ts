import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { linearWarmupDecay } from '../../engine/optim/index.ts';

const fixture = JSON.parse(readFileSync(new URL('../fixtures/optim/torch-reference.json', import.meta.url), 'utf8')) as {
  linearScheduleWithWarmup: { warmupSteps: number; totalSteps: number; multipliers: number[] }[];
};

void test('decay phase equals transformers get_linear_schedule_with_warmup', () => {
  for (const { warmupSteps, totalSteps, multipliers } of fixture.linearScheduleWithWarmup) {
    for (let step = warmupSteps; step < multipliers.length; step++) {
      const lr = linearWarmupDecay(step, { peakLr: 2, warmupSteps, totalSteps });
      assert.ok(Math.abs(lr - 2 * multipliers[step]) < 1e-12, `W=${warmupSteps} T=${totalSteps} step ${step}: ${lr} vs ${2 * multipliers[step]}`);
    }
  }
});

void test('warm-up is linear from the first step and never zero', () => {
  const config = { peakLr: 1e-3, warmupSteps: 4, totalSteps: 10 };
  const lrs = [0, 1, 2, 3].map((s) => linearWarmupDecay(s, config));
  assert.deepEqual(lrs, [2.5e-4, 5e-4, 7.5e-4, 1e-3]);
  assert.equal(linearWarmupDecay(4, config), 1e-3);
});

void test('decays to the floor by totalSteps and stays there', () => {
  const config = { peakLr: 1, warmupSteps: 0, totalSteps: 4, floorLr: 0.2 };
  assert.deepEqual([0, 1, 2, 3, 4, 9].map((s) => linearWarmupDecay(s, config)), [1, 0.8, 0.6000000000000001, 0.4, 0.2, 0.2]);
  for (let s = 1; s < 4; s++) assert.ok(linearWarmupDecay(s, config) < linearWarmupDecay(s - 1, config));
});

void test('rejects nonsense', () => {
  assert.throws(() => linearWarmupDecay(-1, { peakLr: 1, warmupSteps: 0, totalSteps: 3 }), RangeError);
  assert.throws(() => linearWarmupDecay(0, { peakLr: 1, warmupSteps: 4, totalSteps: 3 }), RangeError);
  assert.throws(() => linearWarmupDecay(0, { peakLr: 1, warmupSteps: 0, totalSteps: 3, floorLr: 2 }), RangeError);
});
