// A model cut into several stages (one block each, built head first) computes what the one-stage
// model computes: the same logits and the same generated tokens, from memory and from a file.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { saveCheckpoint } from '../../engine/gpt2/checkpoint.ts';
import { presetConfig } from '../../engine/gpt2/config.ts';
import { generateTokens } from '../../engine/gpt2/generate.ts';
import { Gpt2Model } from '../../engine/gpt2/model.ts';
import { gpt2Stages } from '../../engine/gpt2/stage-graphs.ts';
import { randomWeights } from '../../engine/gpt2/weights.ts';

void describe('GPT-2 in several stages', () => {
  const config = { ...presetConfig('micro'), nLayer: 3 };
  const weights = randomWeights(config, 'stage-split');
  for (const [name, t] of weights) if (!name.includes('ln_')) t.data.forEach((v, i) => (t.data[i] = v * 5));
  /** One block's raw weights: stages of this many bytes hold one block each. */
  const blockBytes = 4 * (12 * config.nEmbd * config.nEmbd + 13 * config.nEmbd);
  const ids = [3, 141, 59, 26, 5, 358, 97, 9];
  const prompts = [[5, 17, 300, 42, 9], [200], [7, 7, 7]];
  const generation = { maxNewTokens: 10, temperature: 0, seed: 0, stopToken: null };
  let dir: string;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'veil-stage-split-'));
    return saveCheckpoint(dir, { config, weights }, { tokenizer: false });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  async function outputs(model: Gpt2Model): Promise<{ logits: Float32Array; tokens: number[][] }> {
    try {
      return { logits: await model.sequenceLogits(ids), tokens: (await generateTokens(model, prompts, generation)).tokens };
    } finally {
      await model.release();
    }
  }

  void test('the split is one block per stage, the head in the last', () => {
    const stages = gpt2Stages(config, blockBytes);
    assert.deepEqual(
      stages.map((s) => [s.from, s.to, s.head]),
      [
        [0, 1, false],
        [1, 2, false],
        [2, 3, true],
      ],
    );
    assert.equal(gpt2Stages(config).length, 1);
  });

  void test('three stages give the one-stage logits and tokens, from memory and from a file', async () => {
    const whole = await outputs(await Gpt2Model.create({ config, weights }));
    for (const [label, model] of [
      ['in memory', await Gpt2Model.create({ config, weights }, { stageBytes: blockBytes })],
      ['from the file', await Gpt2Model.load(dir, { stageBytes: blockBytes })],
    ] as const) {
      const split = await outputs(model);
      let worst = 0;
      for (let i = 0; i < whole.logits.length; i++) worst = Math.max(worst, Math.abs(split.logits[i] - whole.logits[i]));
      // The stages run the same kernels on the same values; only a cut between them differs.
      assert.ok(worst < 1e-5, `${label}: largest logit difference ${worst}`);
      assert.deepEqual(split.tokens, whole.tokens, label);
    }
  });
});
