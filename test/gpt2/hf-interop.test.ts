// A model Veil saves opens in transformers unchanged (model, tied head and tokenizer), with the
// same ids and logits, and Veil reads it back through onnxruntime's file mapping (float32
// safetensors) to the same logits. Needs a Python with torch and transformers (VEIL_PYTHON,
// default bench/.venv from bench/python/setup.sh); skipped where there is none.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { saveCheckpoint } from '../../engine/gpt2/checkpoint.ts';
import { presetConfig } from '../../engine/gpt2/config.ts';
import { Gpt2Model } from '../../engine/gpt2/model.ts';
import { randomWeights } from '../../engine/gpt2/weights.ts';
import { encode } from '../../engine/tokenizer/gpt2-tokenizer.ts';
import { benchPython } from '../../bench/python/python.ts';
import { fixtureDir } from './fixture.ts';

const python = benchPython();
const hasTransformers = existsSync(python) && spawnSync(python, ['-c', 'import torch, transformers'], { stdio: 'ignore' }).status === 0;

void test('transformers opens a Veil-saved model and tokenizer and computes the same logits', { skip: hasTransformers ? false : `no Python with transformers at ${python}` }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'veil-hf-interop-'));
  try {
    const config = presetConfig('tiny');
    const checkpoint = { config, weights: randomWeights(config, 'interop') };
    await saveCheckpoint(dir, checkpoint);
    const text = 'Veil saved this: François 👋 <|endoftext|> and   spaces';
    const r = spawnSync(python, [join(fixtureDir, 'check_saved_model.py'), dir, text], { encoding: 'utf8', maxBuffer: 1 << 26 });
    assert.equal(r.status, 0, r.stderr);
    const hf = JSON.parse(r.stdout) as { ids: number[]; logits: number[]; architecture: string; tied: boolean };
    assert.equal(hf.architecture, 'GPT2LMHeadModel');
    assert.equal(hf.tied, true);
    assert.deepEqual(hf.ids, encode(text));
    const model = await Gpt2Model.load(dir);
    const logits = await model.sequenceLogits(hf.ids);
    await model.release();
    const last = logits.subarray((hf.ids.length - 1) * config.vocabSize);
    let worst = 0;
    hf.logits.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - last[i]))));
    assert.ok(worst < 1e-4, `largest logit difference ${worst}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
