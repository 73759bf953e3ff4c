// Generation on a micro random GPT-2: the cached path equals recomputing from scratch, batching
// and padding change nothing, sampling is seeded, and the stop/length rules hold.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { presetConfig } from '../../engine/gpt2/config.ts';
import { generateTokens } from '../../engine/gpt2/generate.ts';
import { Gpt2Model } from '../../engine/gpt2/model.ts';
import { argmax } from '../../engine/gpt2/sampling.ts';
import { randomWeights } from '../../engine/gpt2/weights.ts';

void describe('generation', () => {
  const config = { ...presetConfig('micro'), nPositions: 40 };
  let model: Gpt2Model;
  before(async () => {
    // A wider init than GPT-2's so greedy choices are decided by clear margins.
    const weights = randomWeights(config, 'generate-test');
    for (const [name, t] of weights) if (!name.includes('ln_')) t.data.forEach((v, i) => (t.data[i] = v * 5));
    model = await Gpt2Model.create({ config, weights });
  });
  after(async () => model.release());

  async function greedyFromScratch(prompt: number[], n: number): Promise<number[]> {
    const seq = prompt.length === 0 ? [config.bosTokenId] : [...prompt];
    const out: number[] = [];
    for (let i = 0; i < n; i++) {
      const logits = await model.sequenceLogits(seq);
      const id = argmax(logits.subarray((seq.length - 1) * config.vocabSize));
      out.push(id);
      seq.push(id);
    }
    return out;
  }

  void test('greedy with the KV cache equals greedy recomputed from scratch, alone and batched', async () => {
    const prompts = [[5, 17, 300, 42, 9, 77, 120], [], [200], [7, 7, 7]];
    const expected = await Promise.all(prompts.map((p) => greedyFromScratch(p, 12)));
    for (const [i, p] of prompts.entries()) {
      const { tokens } = await generateTokens(model, [p], { maxNewTokens: 12, temperature: 0, seed: 0, stopToken: null });
      assert.deepEqual(tokens[0], expected[i], `prompt ${i} alone`);
    }
    const { tokens, finish } = await generateTokens(model, prompts, { maxNewTokens: 12, temperature: 0, seed: 0, stopToken: null });
    assert.deepEqual(tokens, expected);
    assert.deepEqual(finish, ['length', 'length', 'length', 'length']);
  });

  void test('prompts longer than a prefill slice, alone and left-padded in a batch, continue as recomputed from scratch', async () => {
    const long = Array.from({ length: 33 }, (_, i) => (i * 37 + 11) % config.vocabSize);
    const prompts = [long, long.slice(0, 17), [5]];
    const expected = await Promise.all(prompts.map((p) => greedyFromScratch(p, 6)));
    const { tokens } = await generateTokens(model, prompts, { maxNewTokens: 6, temperature: 0, seed: 0, stopToken: null });
    assert.deepEqual(tokens, expected);
    assert.deepEqual((await generateTokens(model, [long], { maxNewTokens: 6, temperature: 0, seed: 0, stopToken: null })).tokens[0], expected[0]);
  });

  void test('sampling is reproducible from the seed and changes with it', async () => {
    const prompts = [[1, 2, 3], [4]];
    const opts = { maxNewTokens: 10, temperature: 1, topK: 0, seed: 'abc', stopToken: null };
    const a = await generateTokens(model, prompts, opts);
    const b = await generateTokens(model, prompts, opts);
    const c = await generateTokens(model, prompts, { ...opts, seed: 'abd' });
    assert.deepEqual(a.tokens, b.tokens);
    assert.notDeepEqual(a.tokens, c.tokens);
  });

  void test('a row stops at the stop token, which is not returned; others go on', async () => {
    const first = (await generateTokens(model, [[3, 4, 5]], { maxNewTokens: 1, temperature: 0, seed: 0, stopToken: null })).tokens[0][0];
    const { tokens, finish } = await generateTokens(model, [[3, 4, 5], [9]], { maxNewTokens: 6, temperature: 0, seed: 0, stopToken: first });
    assert.deepEqual(tokens[0], []);
    assert.equal(finish[0], 'stop');
    assert.ok(tokens[1].every((t) => t !== first));
    assert.equal(finish[1], tokens[1].length === 6 ? 'length' : 'stop');
  });

  void test('limits: zero new tokens, context length, bad options', async () => {
    assert.deepEqual((await generateTokens(model, [[1]], { maxNewTokens: 0, temperature: 0, seed: 0 })).tokens, [[]]);
    await assert.rejects(generateTokens(model, [new Array<number>(30).fill(1)], { maxNewTokens: 20, temperature: 0, seed: 0 }), /exceed the model's 40 positions/);
    await assert.rejects(generateTokens(model, [[1]], { maxNewTokens: 2, temperature: -1, seed: 0 }), /temperature/);
    await assert.rejects(generateTokens(model, [[1]], { maxNewTokens: 2, temperature: 1, topP: 0, seed: 0 }), /top-p/);
  });
});
