import { test } from 'node:test';
import assert from 'node:assert/strict';
import { accumulateClipped, clipFactor, globalNorm, splitIntoMicroBatches } from '../../engine/dp/index.ts';

void test('micro-batches keep order, cover every index once and respect the physical size', () => {
  const indices = Int32Array.from({ length: 23 }, (_, i) => i * 3);
  const batches = splitIntoMicroBatches(indices, 5);
  assert.deepEqual(batches.map((b) => b.length), [5, 5, 5, 5, 3]);
  assert.deepEqual(batches.flat(), [...indices]);
  assert.deepEqual(splitIntoMicroBatches(new Int32Array(0), 5), []);
  assert.deepEqual(splitIntoMicroBatches([4, 9], 8), [[4, 9]]);
  assert.throws(() => splitIntoMicroBatches([1], 0), RangeError);
});

void test('clipping bounds every example by C and leaves small gradients alone', () => {
  const C = 1.5;
  const sum = [new Float32Array(4), new Float32Array(2)];
  let expectedSum = [0, 0, 0, 0, 0, 0];
  for (let e = 0; e < 50; e++) {
    const scale = e % 2 === 0 ? 0.01 : 10; // half below C, half far above
    const grad = [Float64Array.from({ length: 4 }, (_, i) => Math.cos(e + i) * scale), Float64Array.from({ length: 2 }, (_, i) => Math.sin(e * i + 1) * scale)];
    const single = [new Float32Array(4), new Float32Array(2)];
    const norm = accumulateClipped(grad, single, C);
    assert.ok(Math.abs(norm - globalNorm(grad)) < 1e-12);
    const clippedNorm = globalNorm(single);
    assert.ok(clippedNorm <= C * (1 + 1e-6), `clipped norm ${clippedNorm}`);
    if (norm < C) assert.ok(Math.abs(clippedNorm - norm) < 1e-5 * norm, 'unclipped example changed');
    else assert.ok(Math.abs(clippedNorm - C) < 1e-5, 'clipped example should sit at C');
    accumulateClipped(grad, sum, C);
    const flat = [...single[0], ...single[1]];
    expectedSum = expectedSum.map((x, i) => x + flat[i]);
  }
  [...sum[0], ...sum[1]].forEach((x, i) => assert.ok(Math.abs(x - expectedSum[i]) < 1e-4));
  assert.equal(clipFactor(0, 1), 1);
  assert.equal(clipFactor(4, 1), 1 / (4 + 1e-6));
  assert.throws(() => clipFactor(Number.NaN, 1), RangeError);
});
