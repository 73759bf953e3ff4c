// The DP-LoRA request: `veil finetune --lora-*` flags, the SDK's fit(X, { lora }) and the fineTune
// input schema's `model.lora`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fineTuneInputFromFlags } from '../../clients/cli/finetune.ts';
import { DatasetRef, GPT2, fineTuneInputOf } from '../../clients/sdk/notebook.ts';
import { fineTuneSchema } from '../../contracts/fine-tune.ts';

const flags = { dataset: 'notes', analyst: 'a1', textColumn: 'note', model: 'gpt2', targetEpsilon: '8', batchSize: '64', epochs: '1' };

void test('--lora-rank/--lora-alpha/--lora-targets become model.lora; alpha defaults to 2r, merged weights by default', () => {
  const input = fineTuneInputFromFlags({ ...flags, loraRank: '8', loraTargets: 'attn.c_attn, mlp.c_fc' });
  const spec = fineTuneSchema.parse(input);
  assert.deepEqual(spec.model.lora, { rank: 8, alpha: 16, targets: ['attn.c_attn', 'mlp.c_fc'], merge: true });
  const explicit = fineTuneSchema.parse(fineTuneInputFromFlags({ ...flags, loraRank: '4', loraAlpha: '32', loraAdapterOnly: true }));
  assert.deepEqual(explicit.model.lora, { rank: 4, alpha: 32, targets: ['attn.c_attn', 'attn.c_proj'], merge: false });
  assert.equal(fineTuneSchema.parse(fineTuneInputFromFlags(flags)).model.lora, undefined, 'no flag, no LoRA');
});

void test('LoRA options without a rank, unknown projections and repeated ones are refused', () => {
  assert.throws(() => fineTuneInputFromFlags({ ...flags, loraAlpha: '16' }), /need --lora-rank/);
  const bad = (lora: unknown) => fineTuneSchema.safeParse({ ...fineTuneInputFromFlags(flags), model: { base: 'gpt2', lora } });
  assert.equal(bad({ rank: 8, targets: ['attn.q_proj'] }).success, false);
  assert.equal(bad({ rank: 8, targets: ['mlp.c_fc', 'mlp.c_fc'] }).success, false);
  assert.equal(bad({ rank: 0 }).success, false);
  assert.equal(bad({ rank: 8, dropout: 0.1 }).success, false, 'unknown fields are refused, not ignored');
  assert.equal(bad({ rank: 8 }).success, true);
});

void test('fit(X, { lora }) puts the adapters in the fineTune input', async () => {
  const X = new DatasetRef(undefined as never, 'notes', 2);
  const model = GPT2.create('random:tiny', { maxSeqLen: 32 }).fit(X, { batchSize: 16, epochs: 1, textColumn: 'note', lora: { rank: 4, targets: ['mlp.c_fc'] } });
  const input = await fineTuneInputOf(model, { analyst: 'a1', targetEpsilon: 8 });
  assert.deepEqual(fineTuneSchema.parse(input).model, { base: 'random:tiny', seed: 'veil', maxSeqLen: 32, lora: { rank: 4, alpha: 8, targets: ['mlp.c_fc'], merge: true } });
  const plain = await fineTuneInputOf(GPT2.create('random:tiny').fit(X, { batchSize: 16, epochs: 1, textColumn: 'note' }), { analyst: 'a1', targetEpsilon: 8 });
  assert.equal(plain.model.lora, undefined);
});
