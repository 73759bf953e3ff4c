// The staged, pre-packed Gpt2Model against the whole forward graph with weights fed as inputs,
// whichever way its weights arrive: in memory, mapped from float32 safetensors by onnxruntime,
// read and converted from fp16, or fed instead of pre-packed.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import { loadCheckpoint, saveCheckpoint } from '../../engine/gpt2/checkpoint.ts';
import { presetConfig } from '../../engine/gpt2/config.ts';
import { buildGpt2Graph } from '../../engine/gpt2/graph.ts';
import { Gpt2Model, MASKED } from '../../engine/gpt2/model.ts';
import { randomWeights } from '../../engine/gpt2/weights.ts';
import { EngineSession, serializeGraph } from '../../engine/onnx/index.ts';
import { tinyModelDir } from './fixture.ts';

void describe('staged GPT-2', () => {
  const config = presetConfig('micro');
  const weights = randomWeights(config, 'staged-model');
  const ids = [3, 141, 59, 26, 5, 358, 97, 9, 323, 84];
  let dir: string;
  let reference: Float32Array;

  /** Logits of the whole graph in one session, weights fed as inputs: the path that predates stages. */
  async function wholeGraphLogits(): Promise<Float32Array> {
    const session = await EngineSession.create(serializeGraph(buildGpt2Graph(config, { logits: 'all', kvCache: false })));
    const T = ids.length;
    const bias = new Float32Array(T * T);
    for (let t = 0; t < T; t++) for (let s = t + 1; s < T; s++) bias[t * T + s] = MASKED;
    const feeds: Record<string, ort.Tensor> = {
      input_ids: new ort.Tensor('int64', BigInt64Array.from(ids, BigInt), [1, T]),
      position_ids: new ort.Tensor('int64', BigInt64Array.from(ids.map((_, i) => BigInt(i))), [1, T]),
      attn_bias: new ort.Tensor('float32', bias, [1, 1, T, T]),
    };
    for (const [name, t] of weights) feeds[name] = new ort.Tensor('float32', t.data, t.shape);
    const out = (await session.run(feeds)).logits.data as Float32Array;
    await session.release();
    return out;
  }

  function assertClose(actual: Float32Array, label: string): void {
    assert.equal(actual.length, reference.length, label);
    let worst = 0;
    for (let i = 0; i < actual.length; i++) worst = Math.max(worst, Math.abs(actual[i] - reference[i]));
    // Pre-packed and plain MatMul kernels may add in a different order: float32 rounding only.
    assert.ok(worst < 1e-5, `${label}: largest logit difference ${worst}`);
  }

  async function logitsOf(model: Gpt2Model): Promise<Float32Array> {
    try {
      return await model.sequenceLogits(ids);
    } finally {
      await model.release();
    }
  }

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'veil-staged-'));
    await saveCheckpoint(dir, { config, weights }, { tokenizer: false });
    reference = await wholeGraphLogits();
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  void test('weights in memory, pre-packed or fed, give the whole graph logits', async () => {
    assertClose(await logitsOf(await Gpt2Model.create({ config, weights })), 'in memory, pre-packed');
    assertClose(await logitsOf(await Gpt2Model.create({ config, weights }, { prepack: false })), 'in memory, fed');
  });

  void test('float32 safetensors mapped by onnxruntime give the whole graph logits, and again after a release', async () => {
    const model = await Gpt2Model.load(dir);
    const first = await model.sequenceLogits(ids);
    assertClose(first, 'mapped from model.safetensors');
    await model.release();
    assert.deepEqual(await model.sequenceLogits(ids), first, 'rebuilt from the file after release');
    await model.release();
  });

  void test('fp16 safetensors (the golden fixture) are read and converted, and compute what the loaded checkpoint computes', async () => {
    const fromDisk = await Gpt2Model.load(tinyModelDir);
    const inMemory = await Gpt2Model.create(await loadCheckpoint(tinyModelDir));
    const golden = [50, 1000, 7, 42, 50256];
    assert.deepEqual(await fromDisk.sequenceLogits(golden), await inMemory.sequenceLogits(golden));
    await fromDisk.release();
    await inMemory.release();
  });
});
