// Reading prompts in slices of any size (prefillRows) continues exactly as reading them whole,
// and as recomputing every step from scratch: the slices' keys and values land in the right
// cache slots, for left-padded batches too.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { presetConfig } from '../../engine/gpt2/config.ts';
import { generateTokens } from '../../engine/gpt2/generate.ts';
import { Gpt2Model } from '../../engine/gpt2/model.ts';
import { argmax } from '../../engine/gpt2/sampling.ts';
import { randomWeights } from '../../engine/gpt2/weights.ts';

void describe('prompt slices', () => {
  const config = { ...presetConfig('micro'), nPositions: 48 };
  let model: Gpt2Model;
  before(async () => {
    // A wider init than GPT-2's so greedy choices are decided by clear margins.
    const weights = randomWeights(config, 'prefill-slices-test');
    for (const [name, t] of weights) if (!name.includes('ln_')) t.data.forEach((v, i) => (t.data[i] = v * 5));
    model = await Gpt2Model.create({ config, weights });
  });
  after(async () => model.release());

  async function greedyFromScratch(prompt: number[], n: number): Promise<number[]> {
    const seq = [...prompt];
    const out: number[] = [];
    for (let i = 0; i < n; i++) {
      const logits = await model.sequenceLogits(seq);
      const id = argmax(logits.subarray((seq.length - 1) * config.vocabSize));
      out.push(id);
      seq.push(id);
    }
    return out;
  }

  void test('every slice size gives the tokens recomputed from scratch', async () => {
    const long = Array.from({ length: 37 }, (_, i) => (i * 53 + 3) % config.vocabSize);
    const prompts = [long, long.slice(5, 16), [9, 4]];
    const expected = await Promise.all(prompts.map((p) => greedyFromScratch(p, 8)));
    // 3 rows: 1 and 7 rows give slices of 1 and 2 positions, 20 of 6, 1000 one pass for all 37.
    for (const prefillRows of [1, 7, 20, 1000]) {
      const { tokens } = await generateTokens(model, prompts, { maxNewTokens: 8, temperature: 0, seed: 0, stopToken: null, prefillRows });
      assert.deepEqual(tokens, expected, `prefillRows ${prefillRows}`);
    }
  });

  void test('a slice size that is not a positive integer is refused', async () => {
    for (const prefillRows of [0, -4, 2.5]) {
      await assert.rejects(generateTokens(model, [[1, 2]], { maxNewTokens: 2, temperature: 0, seed: 0, prefillRows }), RangeError);
    }
  });
});
