// Token losses: the in-graph scorer and the Gpt2Model path against a direct per-row computation
// from sequenceLogits; batching and right padding change nothing; fromToken; batch planning.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { SequenceScorer, planBatches, rowLoss, rowLosses, tokenLosses } from '../../engine/audit/index.ts';
import { Gpt2Model, openCheckpoint, type Gpt2Checkpoint } from '../../engine/gpt2/index.ts';
import { SecureStream } from '../../engine/random/secure-stream.ts';

let micro: Gpt2Checkpoint;
let model: Gpt2Model;
let scorer: SequenceScorer;

before(async () => {
  micro = await openCheckpoint('random:micro@audit-loss');
  model = await Gpt2Model.create(micro);
  scorer = await SequenceScorer.create(micro);
});

after(async () => {
  await model.release();
  await scorer.release();
});

function randomRows(lengths: readonly number[], vocab: number, seed: string): number[][] {
  const rng = SecureStream.fromSeed(seed, 'test-audit');
  return lengths.map((n) => Array.from({ length: n }, () => Math.floor(rng.nextDouble() * vocab)));
}

/** −log softmax(logits_t)[ids_{t+1}] from one unbatched forward, in float64. */
async function referenceTokenLosses(m: Gpt2Model, ids: readonly number[]): Promise<number[]> {
  if (ids.length < 2) return [];
  const V = m.config.vocabSize;
  const logits = await m.sequenceLogits(ids);
  const out: number[] = [];
  for (let t = 0; t + 1 < ids.length; t++) {
    const row = logits.subarray(t * V, (t + 1) * V);
    const max = Math.max(...row);
    const lse = max + Math.log(row.reduce((s, v) => s + Math.exp(v - max), 0));
    out.push(lse - row[ids[t + 1]]);
  }
  return out;
}

const LENGTHS = [1, 2, 17, 5, 33, 64, 9, 9, 40];

void test('scorer and Gpt2Model paths match an unbatched per-row computation', async () => {
  const rows = randomRows(LENGTHS, micro.config.vocabSize, 'rows');
  const fromScorer = await tokenLosses(scorer, rows, { maxBatchTokens: 100 });
  const fromModel = await tokenLosses(model, rows, { maxBatchTokens: 100 });
  for (let i = 0; i < rows.length; i++) {
    const ref = await referenceTokenLosses(model, rows[i]);
    assert.equal(fromScorer[i].length, ref.length);
    assert.equal(fromModel[i].length, ref.length);
    ref.forEach((r, t) => {
      assert.ok(Math.abs(fromScorer[i][t] - r) < 2e-4, `row ${i} token ${t}: scorer ${fromScorer[i][t]} vs ${r}`);
      assert.ok(Math.abs(fromModel[i][t] - r) < 2e-4, `row ${i} token ${t}: model ${fromModel[i][t]} vs ${r}`);
    });
  }
  // The tolerance means something: neighbouring tokens' losses differ by far more than it, so an
  // off-by-one position would fail.
  const l = fromScorer[5];
  assert.ok(l.some((v, t) => t > 0 && Math.abs(v - l[t - 1]) > 0.05));
});

void test('batch size and padding do not change the losses', async () => {
  const rows = randomRows(LENGTHS, micro.config.vocabSize, 'pad');
  const alone = await tokenLosses(scorer, rows, { maxBatchTokens: 1 }); // one row per pass, no padding
  const packed = await tokenLosses(scorer, rows, { maxBatchTokens: 4096 }); // one pass, padded to 64
  alone.forEach((a, i) => a.forEach((v, t) => assert.ok(Math.abs(v - packed[i][t]) < 1e-4, `row ${i} token ${t}`)));
});

void test('rowLoss is the mean token loss (0 below two tokens); fromToken selects the tail', async () => {
  const rows = randomRows([12, 1, 30], micro.config.vocabSize, 'mean');
  const ref = await referenceTokenLosses(model, rows[0]);
  const mean = ref.reduce((a, b) => a + b, 0) / ref.length;
  assert.ok(Math.abs((await rowLoss(scorer, rows[0])) - mean) < 1e-4);
  assert.ok(Math.abs((await rowLoss(model, rows[0])) - mean) < 1e-4);
  assert.equal(await rowLoss(scorer, rows[1]), 0);
  const many = await rowLosses(scorer, rows);
  assert.ok(Math.abs(many[0] - mean) < 1e-4 && many[1] === 0);
  const tail = await tokenLosses(scorer, [rows[2]], { fromToken: 25 });
  const full = await tokenLosses(scorer, [rows[2]]);
  assert.equal(tail[0].length, 5);
  tail[0].forEach((v, k) => assert.ok(Math.abs(v - full[0][24 + k]) < 1e-5));
  assert.equal((await tokenLosses(scorer, [rows[1]], { fromToken: 3 }))[0].length, 0);
});

void test('the full GPT-2 vocabulary works on the tiny preset', async () => {
  const tiny = await openCheckpoint('random:tiny@audit-loss');
  const tinyModel = await Gpt2Model.create(tiny);
  const tinyScorer = await SequenceScorer.create(tiny);
  try {
    const rows = randomRows([6, 11], tiny.config.vocabSize, 'tiny');
    const got = await tokenLosses(tinyScorer, rows);
    for (let i = 0; i < rows.length; i++) {
      const ref = await referenceTokenLosses(tinyModel, rows[i]);
      ref.forEach((r, t) => assert.ok(Math.abs(got[i][t] - r) < 2e-4));
    }
  } finally {
    await tinyModel.release();
    await tinyScorer.release();
  }
});

void test('bad input is refused', async () => {
  await assert.rejects(tokenLosses(scorer, [[1, 512]]), /not a token id/);
  await assert.rejects(tokenLosses(scorer, [[1, 2.5]]), /not a token id/);
  await assert.rejects(tokenLosses(scorer, [new Array<number>(65).fill(1)]), /exceeds/);
  await assert.rejects(tokenLosses(scorer, [[1, 2]], { fromToken: 0 }), /fromToken/);
});

void test('batch plans cover every sequence once and respect the token budget', () => {
  const lengths = [3, 50, 7, 7, 20, 1, 64, 12];
  const plan = planBatches(lengths, 64);
  assert.deepEqual(plan.flat().sort((a, b) => a - b), lengths.map((_, i) => i));
  for (const batch of plan) {
    const width = Math.max(...batch.map((i) => lengths[i]));
    assert.ok(batch.length === 1 || batch.length * width <= 64, `${batch}`);
  }
  assert.deepEqual(planBatches([100, 2], 10), [[0], [1]], 'a sequence over the budget runs alone');
});
