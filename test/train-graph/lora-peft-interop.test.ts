// Veil's LoRA adapters in PEFT's format. Without Python: Veil reads the adapter PEFT saved
// (test/fixtures/gpt2-lora/adapter) and writes it back tensor for tensor, and the model with the
// adapter merged (mergeLora) gives the logits PEFT computed, adapted and merged. With Python and peft
// (VEIL_PYTHON, default bench/.venv): peft loads an adapter Veil wrote onto the Hugging Face base,
// unchanged, and computes Veil's logits.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readSafetensors } from '../../engine/gpt2/safetensors.ts';
import { Gpt2Model } from '../../engine/gpt2/model.ts';
import { adapterShapes, type AdapterWeights, type LoraSpec } from '../../engine/lora/adapters.ts';
import { mergeLora } from '../../engine/lora/merge.ts';
import { PEFT_CONFIG_FILE, PEFT_WEIGHTS_FILE, readPeftAdapter, writePeftAdapter } from '../../engine/lora/peft-adapter.ts';
import { SecureStream } from '../../engine/random/secure-stream.ts';
import { benchPython } from '../../bench/python/python.ts';
import { loadTinyModel } from './fixture.ts';
import { loadLoraFixture, loraFixtureDir, peftAdapterDir } from './lora-fixture.ts';

function maxRelativeError(actual: ArrayLike<number>, expected: readonly number[]): number {
  let diff = 0;
  let scale = 0;
  expected.forEach((e, i) => {
    diff = Math.max(diff, Math.abs(actual[i] - e));
    scale = Math.max(scale, Math.abs(e));
  });
  return diff / scale;
}

void test('an adapter PEFT saved reads into Veil and writes back tensor for tensor, with the same config', async () => {
  const tiny = await loadTinyModel();
  const { spec, weights } = await readPeftAdapter(peftAdapterDir, tiny.config);
  const dir = mkdtempSync(join(tmpdir(), 'veil-peft-'));
  try {
    await writePeftAdapter(dir, tiny.config, spec, weights, 'test/fixtures/gpt2/tiny');
    const theirs = await readSafetensors(join(peftAdapterDir, PEFT_WEIGHTS_FILE));
    const ours = await readSafetensors(join(dir, PEFT_WEIGHTS_FILE));
    assert.deepEqual([...ours.keys()].sort(), [...theirs.keys()].sort());
    for (const [key, t] of theirs) {
      assert.deepEqual(ours.get(key)!.shape, t.shape, key);
      assert.deepEqual(ours.get(key)!.data, t.data, key);
    }
    const peftConfig = JSON.parse(readFileSync(join(peftAdapterDir, PEFT_CONFIG_FILE), 'utf8')) as Record<string, unknown>;
    const ourConfig = JSON.parse(readFileSync(join(dir, PEFT_CONFIG_FILE), 'utf8')) as Record<string, unknown>;
    for (const field of ['peft_type', 'r', 'lora_alpha', 'fan_in_fan_out', 'bias', 'use_dora', 'use_rslora']) assert.deepEqual(ourConfig[field], peftConfig[field], field);
    assert.deepEqual([...(ourConfig.target_modules as string[])].sort(), [...(peftConfig.target_modules as string[])].sort());
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

void test('the merged model computes the logits PEFT computed with the adapter and after merge_and_unload', async () => {
  const fx = loadLoraFixture();
  const tiny = await loadTinyModel();
  const { spec, weights } = await readPeftAdapter(peftAdapterDir, tiny.config);
  const model = await Gpt2Model.create({ config: tiny.config, weights: mergeLora(tiny.config, tiny.weights, spec, weights) });
  const base = await Gpt2Model.create(tiny);
  try {
    for (let b = 0; b < fx.inputIds.length; b++) {
      const n = fx.attentionMask[b].reduce((x, y) => x + y, 0);
      const ids = fx.inputIds[b].slice(0, n);
      const last = (await model.sequenceLogits(ids)).subarray((n - 1) * tiny.config.vocabSize);
      assert.ok(maxRelativeError(last, fx.lastLogits[b]) <= 1e-4, `row ${b}: adapted`);
      assert.ok(maxRelativeError(last, fx.mergedLastLogits[b]) <= 1e-4, `row ${b}: merged`);
      const plain = (await base.sequenceLogits(ids)).subarray((n - 1) * tiny.config.vocabSize);
      assert.ok(maxRelativeError(plain, fx.lastLogits[b]) > 1e-2, `row ${b}: the adapter changes the logits`);
    }
  } finally {
    await model.release();
    await base.release();
  }
});

const python = benchPython();
const hasPeft = existsSync(python) && spawnSync(python, ['-c', 'import torch, transformers, peft'], { stdio: 'ignore' }).status === 0;

void test('peft loads an adapter Veil wrote onto the Hugging Face base and computes the same logits', { skip: hasPeft ? false : `no Python with peft at ${python}` }, async () => {
  const tiny = await loadTinyModel();
  const spec: LoraSpec = { rank: 3, alpha: 5, targets: ['attn.c_proj', 'mlp.c_fc', 'mlp.c_proj'] };
  const rng = SecureStream.fromSeed('interop', 'lora-test');
  const weights: AdapterWeights = new Map(adapterShapes(tiny.config, spec).map(([name, shape]) => {
    const data = new Float32Array(shape[0] * shape[1]);
    rng.fillGaussian(data, 0.1);
    return [name, { shape, data }];
  }));
  const dir = mkdtempSync(join(tmpdir(), 'veil-peft-'));
  const model = await Gpt2Model.create({ config: tiny.config, weights: mergeLora(tiny.config, tiny.weights, spec, weights) });
  try {
    await writePeftAdapter(dir, tiny.config, spec, weights, 'test/fixtures/gpt2/tiny');
    const ids = [464, 3290, 11, 1212, 318, 257, 40, 1101, 13];
    const r = spawnSync(python, [join(loraFixtureDir, 'check_peft_load.py'), dir, JSON.stringify(ids)], { encoding: 'utf8', maxBuffer: 1 << 26 });
    assert.equal(r.status, 0, r.stderr);
    const hf = JSON.parse(r.stdout) as { logits: number[]; merged_logits: number[]; r: number; lora_alpha: number; trainable: string[] };
    assert.equal(hf.r, 3);
    assert.equal(hf.lora_alpha, 5);
    assert.equal(hf.trainable.length, 2 * 3 * tiny.config.nLayer, 'A and B on three projections per layer');
    const last = (await model.sequenceLogits(ids)).subarray((ids.length - 1) * tiny.config.vocabSize);
    assert.ok(maxRelativeError(last, hf.logits) <= 1e-4, 'adapted');
    assert.ok(maxRelativeError(last, hf.merged_logits) <= 1e-4, 'merged by peft');
  } finally {
    await model.release();
    rmSync(dir, { recursive: true, force: true });
  }
});
