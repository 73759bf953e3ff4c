// Speculative greedy decoding (engine/gpt2/speculative.ts): whatever the draft guesses, the tokens
// are the float32 model's greedy tokens, with the stop and length rules of plain decoding. The
// transformers comparison with a draft is in golden.test.ts.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { generateTokens } from '../../engine/gpt2/generate.ts';
import { Gpt2Model } from '../../engine/gpt2/model.ts';
import { tinyModelDir } from './fixture.ts';

const greedy = { temperature: 0, seed: 0 } as const;
const prompts = [[464, 3290, 318, 257], [15496, 11, 616, 1438, 318], [50256], Array.from({ length: 40 }, (_, i) => (i * 977) % 50000)];

void describe('speculative greedy decoding', () => {
  let model: Gpt2Model;
  let draft: Gpt2Model;
  /** A draft of another model: it guesses wrong most of the time. */
  let stranger: Gpt2Model;
  before(async () => {
    model = await Gpt2Model.load(tinyModelDir);
    draft = await Gpt2Model.load(tinyModelDir, { precision: 'int8-draft' });
    stranger = await Gpt2Model.load('random:tiny@stranger', { precision: 'int8-draft' });
  });
  after(async () => {
    for (const m of [model, draft, stranger]) await m.release();
  });

  const plain = async (prompt: number[], maxNewTokens: number, stopToken: number | null = null) =>
    generateTokens(model, [prompt], { ...greedy, maxNewTokens, stopToken });

  void test('the int8 draft proposes and the tokens are plain greedy decoding, for any number of guesses', async () => {
    for (const prompt of prompts) {
      const expected = (await plain(prompt, 30)).tokens[0];
      for (const draftTokens of [0, 1, 3, 8]) {
        const r = await generateTokens(model, [prompt], { ...greedy, maxNewTokens: 30, stopToken: null, draft, draftTokens });
        assert.deepEqual(r.tokens[0], expected, `prompt of ${prompt.length}, ${draftTokens} guesses`);
        assert.deepEqual(r.finish, ['length']);
        const s = r.speculation!;
        assert.ok(s.accepted <= s.proposed && s.proposed <= draftTokens * s.checks, JSON.stringify(s));
        // Each check yields its kept guesses plus one token of its own.
        assert.equal(s.checks + s.accepted, 30, JSON.stringify(s));
        if (draftTokens > 0) assert.ok(s.accepted > 0, `the draft of the same model kept nothing: ${JSON.stringify(s)}`);
      }
    }
  });

  void test('a draft that guesses wrong changes nothing but the number of checks, and soon guesses less', async () => {
    for (const prompt of prompts) {
      const r = await generateTokens(model, [prompt], { ...greedy, maxNewTokens: 25, stopToken: null, draft: stranger, draftTokens: 8 });
      assert.deepEqual(r.tokens[0], (await plain(prompt, 25)).tokens[0]);
      const s = r.speculation!;
      assert.ok(s.accepted < s.proposed, `a draft of other weights should be rejected sometimes: ${JSON.stringify(s)}`);
      // Rejected guesses shrink the next pass's: a bad draft stays near one guess per pass.
      assert.ok(s.proposed <= 1.5 * s.checks, `guesses per pass did not shrink: ${JSON.stringify(s)}`);
    }
  });

  void test('a stop token among the guesses ends the row there, as in plain decoding', async () => {
    const prompt = prompts[0];
    const free = (await plain(prompt, 30)).tokens[0];
    const stop = free[7];
    const expected = await plain(prompt, 30, stop);
    assert.deepEqual(expected.finish, ['stop']);
    const r = await generateTokens(model, [prompt], { ...greedy, maxNewTokens: 30, stopToken: stop, draft, draftTokens: 5 });
    assert.deepEqual(r.tokens, expected.tokens);
    assert.deepEqual(r.finish, ['stop']);
  });

  void test('one and two new tokens, and the draft is left out when sampling or for several prompts', async () => {
    for (const n of [1, 2]) {
      const r = await generateTokens(model, [prompts[1]], { ...greedy, maxNewTokens: n, stopToken: null, draft });
      assert.deepEqual(r.tokens, (await plain(prompts[1], n)).tokens);
    }
    const batch = await generateTokens(model, prompts.slice(0, 2), { ...greedy, maxNewTokens: 6, stopToken: null, draft });
    assert.equal(batch.speculation, undefined);
    const sampled = await generateTokens(model, [prompts[0]], { temperature: 1, seed: 3, maxNewTokens: 6, stopToken: null, draft });
    assert.equal(sampled.speculation, undefined);
    assert.deepEqual(sampled.tokens, (await generateTokens(model, [prompts[0]], { temperature: 1, seed: 3, maxNewTokens: 6, stopToken: null })).tokens);
  });

  void test('loading a draft leaves no quantized weights behind on disk', async () => {
    const before = readdirSync(tmpdir()).filter((f) => f.startsWith('veil-draft-'));
    const another = await Gpt2Model.load(tinyModelDir, { precision: 'int8-draft' });
    assert.deepEqual(readdirSync(tmpdir()).filter((f) => f.startsWith('veil-draft-')), before);
    // Mapped before the file was removed, the weights still decode.
    const r = await generateTokens(model, [prompts[0]], { ...greedy, maxNewTokens: 5, stopToken: null, draft: another });
    assert.deepEqual(r.tokens, (await plain(prompts[0], 5)).tokens);
    await another.release();
  });

  void test('a bad number of guesses, or a draft of another size, is refused before any work', async () => {
    await assert.rejects(generateTokens(model, [prompts[0]], { ...greedy, maxNewTokens: 3, draft, draftTokens: -1 }), /draft tokens must be a non-negative integer/);
    await assert.rejects(generateTokens(model, [prompts[0]], { ...greedy, maxNewTokens: 3, draft, draftTokens: 1.5 }), /draft tokens must be a non-negative integer/);
    const micro = await Gpt2Model.load('random:micro@other', { precision: 'int8-draft' });
    await assert.rejects(generateTokens(model, [prompts[0]], { ...greedy, maxNewTokens: 3, draft: micro }), /the draft is not a copy of this model/);
    await micro.release();
  });
});
