// GPT-2 against transformers: logits to 1e-4 and greedy text identical, on the tiny fixture model.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { loadCheckpoint } from '../../engine/gpt2/checkpoint.ts';
import { Gpt2Model } from '../../engine/gpt2/model.ts';
import { generateTokens } from '../../engine/gpt2/generate.ts';
import { decode, encode } from '../../engine/tokenizer/gpt2-tokenizer.ts';
import { expected, tinyModelDir } from './fixture.ts';

void describe('GPT-2 golden fixture (transformers)', () => {
  let model: Gpt2Model;
  before(async () => {
    model = await Gpt2Model.create(await loadCheckpoint(tinyModelDir));
  });
  after(async () => model.release());

  void test('the fixture model loads from fp16 safetensors with the tiny config', () => {
    assert.equal(model.config.vocabSize, 50257);
    assert.equal(model.config.nLayer, 2);
    assert.equal(model.config.nHead, 4);
    assert.equal(model.config.nEmbd, 64);
  });

  for (const [i, c] of expected.logits.entries()) {
    void test(`logits match transformers to ${expected.tolerance} (input ${i}: ${JSON.stringify(c.text.slice(0, 30))})`, async () => {
      assert.deepEqual(encode(c.text), c.ids);
      const V = model.config.vocabSize;
      const logits = await model.sequenceLogits(c.ids);
      assert.equal(logits.length, c.ids.length * V);
      let worst = 0;
      for (let t = 0; t < c.ids.length; t++) {
        const row = logits.subarray(t * V, (t + 1) * V);
        expected.vocab_subset.forEach((id, j) => (worst = Math.max(worst, Math.abs(row[id] - c.subset_logits[t][j]))));
        let max = -Infinity;
        let arg = 0;
        for (let v = 0; v < V; v++) if (row[v] > max) [max, arg] = [row[v], v];
        let sum = 0;
        for (let v = 0; v < V; v++) sum += Math.exp(row[v] - max);
        worst = Math.max(worst, Math.abs(max + Math.log(sum) - c.logsumexp[t]));
        assert.equal(arg, c.argmax[t], `argmax at position ${t}`);
      }
      assert.ok(worst <= expected.tolerance, `largest logit difference ${worst}`);
    });
  }

  void test('greedy continuations equal transformers, one prompt at a time', async () => {
    for (const g of expected.greedy) {
      const { tokens } = await generateTokens(model, [encode(g.prompt)], { maxNewTokens: expected.greedy_new_tokens, temperature: 0, seed: 0 });
      assert.deepEqual(tokens[0], g.new_ids, `prompt ${JSON.stringify(g.prompt)}`);
      assert.equal(g.prompt + decode(tokens[0]), g.text);
    }
  });

  void test('greedy continuations equal transformers with an int8 draft guessing ahead', async () => {
    const draft = await Gpt2Model.load(tinyModelDir, { precision: 'int8-draft' });
    try {
      for (const g of expected.greedy) {
        const r = await generateTokens(model, [encode(g.prompt)], { maxNewTokens: expected.greedy_new_tokens, temperature: 0, seed: 0, draft });
        assert.deepEqual(r.tokens[0], g.new_ids, `prompt ${JSON.stringify(g.prompt)}`);
        assert.ok(r.speculation && r.speculation.proposed > 0, 'the draft was not used');
      }
    } finally {
      await draft.release();
    }
  });

  void test('greedy continuations equal transformers for the prompts as one padded batch', async () => {
    const prompts = expected.greedy.map((g) => encode(g.prompt));
    const { tokens } = await generateTokens(model, prompts, { maxNewTokens: expected.greedy_new_tokens, temperature: 0, seed: 0 });
    expected.greedy.forEach((g, b) => assert.deepEqual(tokens[b], g.new_ids, `prompt ${JSON.stringify(g.prompt)}`));
  });
});
