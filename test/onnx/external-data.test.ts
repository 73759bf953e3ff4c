// Models with external data: large initializers handed over from memory, graph inputs bound to
// byte ranges of files that onnxruntime maps itself, and sessions built from a model function.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import ort from 'onnxruntime-node';
import { EngineSession, Graph, op, serializeGraph, serializeGraphExternal } from '../../engine/onnx/index.ts';

const K = 32;
const N = 24; // W is 3 KB: above the 1 KB threshold for external data
const weights = Float32Array.from({ length: K * N }, (_, i) => ((i * 7) % 13) - 6);
const x = Float32Array.from({ length: 2 * K }, (_, i) => (i % 5) - 2);

/** x·W computed here; small integers keep float32 sums exact. */
function expectedProduct(): number[] {
  const out: number[] = [];
  for (let r = 0; r < 2; r++) for (let n = 0; n < N; n++) {
    let s = 0;
    for (let k = 0; k < K; k++) s += x[r * K + k] * weights[k * N + n];
    out.push(s);
  }
  return out;
}

function productGraph(bakeWeights: boolean): Graph {
  const g = new Graph();
  const w = bakeWeights ? g.initializer('w', 'float32', [K, N], weights) : g.input('w', 'float32', [K, N]);
  g.output(op.matmul(g.input('x', 'float32', ['B', K]), w), 'y');
  return g;
}

async function product(session: EngineSession): Promise<number[]> {
  return Array.from((await session.run({ x: new ort.Tensor('float32', x, [2, K]) })).y.data as Float32Array);
}

void test('initializers handed over from memory compute what the same initializers in the protobuf compute', async () => {
  const model = serializeGraphExternal(productGraph(true));
  assert.equal(model.externalData.length, 1);
  assert.equal(model.externalData[0].data.byteLength, weights.byteLength);
  assert.ok(model.bytes.byteLength < weights.byteLength, 'the weights are not in the protobuf');
  const external = await EngineSession.create(model);
  const inline = await EngineSession.create(serializeGraph(productGraph(true)));
  assert.deepEqual(await product(external), expectedProduct());
  assert.deepEqual(await product(inline), expectedProduct());
  await external.release();
  await inline.release();
});

void test('a graph input bound to a byte range of a file becomes an initializer onnxruntime reads from it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'veil-external-'));
  try {
    const offset = 24; // junk before the tensor, as a safetensors header would be
    const bytes = new Uint8Array(offset + weights.byteLength).fill(0xff);
    bytes.set(new Uint8Array(weights.buffer), offset);
    writeFileSync(join(dir, 'weights.bin'), bytes);
    const model = serializeGraphExternal(productGraph(false), { folder: dir, inputsFromFiles: new Map([['w', { file: 'weights.bin', offset, length: weights.byteLength }]]) });
    assert.equal(model.externalData.length, 0);
    const session = await EngineSession.create(model);
    assert.deepEqual(session.inputNames, ['x'], 'w is no longer an input');
    assert.deepEqual(await product(session), expectedProduct());
    await session.release();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  assert.throws(() => serializeGraphExternal(productGraph(false), { inputsFromFiles: new Map([['w', { file: 'w.bin', offset: 0, length: 4 }]]) }), /needs the folder/);
  assert.throws(() => serializeGraphExternal(productGraph(false), { folder: '/tmp', inputsFromFiles: new Map([['v', { file: 'w.bin', offset: 0, length: 4 }]]) }), /no input v/);
});

void test('a session made from a model function builds the model at creation and again only after an idle release', async () => {
  let builds = 0;
  const session = await EngineSession.create(
    () => {
      builds++;
      return serializeGraphExternal(productGraph(true));
    },
    { idleReleaseMs: 30, spinning: false },
  );
  assert.equal(builds, 1);
  assert.deepEqual(await product(session), expectedProduct());
  assert.equal(builds, 1);
  await sleep(120);
  assert.equal(session.isLoaded, false);
  assert.deepEqual(await product(session), expectedProduct());
  assert.equal(builds, 2);
  await session.release();
});
