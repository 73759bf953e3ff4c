// The session layer: idle release and reload, provider checks, settings from the environment.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import ort from 'onnxruntime-node';
import {
  assertProviderAvailable,
  EngineSession,
  ExecutionProviderUnavailableError,
  Graph,
  op,
  serializeGraph,
  sessionConfigFromEnv,
} from '../../engine/onnx/index.ts';

function doubler(): Uint8Array {
  const g = new Graph();
  g.output(op.mul(g.input('x', 'float32', [2]), 2), 'y');
  return serializeGraph(g);
}

void test('an idle session releases its native memory and comes back on the next run', async () => {
  const s = await EngineSession.create(doubler(), { idleReleaseMs: 30 });
  const x = new ort.Tensor('float32', Float32Array.from([1, 2]), [2]);
  assert.deepEqual(Array.from((await s.run({ x })).y.data as Float32Array), [2, 4]);
  assert.equal(s.isLoaded, true);
  await sleep(120);
  assert.equal(s.isLoaded, false);
  assert.deepEqual(Array.from((await s.run({ x })).y.data as Float32Array), [2, 4]);
  assert.deepEqual(s.inputNames, ['x']);
  await s.release();
});

void test('a provider this build lacks fails with a clear error before onnxruntime is asked', async () => {
  assert.doesNotThrow(() => assertProviderAvailable('cpu'));
  const listed = ort.listSupportedBackends().map((b) => b.name);
  if (!listed.includes('coreml')) assert.throws(() => assertProviderAvailable('coreml'), /not in this onnxruntime-node build/);
  const cuda = ort.listSupportedBackends().find((b) => b.name === 'cuda');
  if (cuda && !cuda.bundled) {
    let err: unknown;
    try {
      await EngineSession.create(doubler(), { executionProvider: 'cuda' });
    } catch (e) {
      err = e;
    }
    // Either the CUDA provider library is installed (a GPU worker) or the error says it is missing.
    if (err !== undefined) {
      assert.ok(err instanceof ExecutionProviderUnavailableError);
      assert.match(err.message, /cuda/);
    }
  }
});

void test('settings come from VEIL_ORT_* variables and bad values are named', () => {
  assert.deepEqual(sessionConfigFromEnv({}), {});
  assert.deepEqual(sessionConfigFromEnv({ VEIL_ORT_PROVIDER: 'cuda', VEIL_ORT_THREADS: '4', VEIL_ORT_OPTIMIZATION: 'basic' }), {
    executionProvider: 'cuda',
    intraOpThreads: 4,
    graphOptimization: 'basic',
  });
  assert.throws(() => sessionConfigFromEnv({ VEIL_ORT_PROVIDER: 'tpu' }), /VEIL_ORT_PROVIDER/);
  assert.throws(() => sessionConfigFromEnv({ VEIL_ORT_THREADS: '0' }), /VEIL_ORT_THREADS/);
});
