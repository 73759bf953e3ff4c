// One pattern per id: what the workflows' schemas accept, the S3 key layout accepts too, so a
// job is never refused halfway (a job id with '@' used to pass the input check and fail at the
// first checkpoint upload, after training had started).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fineTuneSchema } from '../../contracts/fine-tune.ts';
import { idFromWorkflowId, isValidId } from '../../contracts/ids.ts';
import { isModelFileName } from '../../contracts/models.ts';
import { checkpointPrefix, modelPrefix, requestNonceKey, runDataPrefix, samplesPrefix } from '../../infra/storage/index.ts';

const input = (jobId: string) => ({
  jobId,
  analyst: 'alice@example.org',
  dataset: { name: 'notes' },
  textColumn: 'note',
  model: { base: 'tiny' },
  training: { targetEpsilon: 8, batchSize: 8, epochs: 1 },
});

test('a job id with characters the storage layout refuses is refused by the input schema', () => {
  for (const bad of ['a@b', 'a/b', '..', 'a..b', '-a', 'a b', 'a:b', 'x'.repeat(129)]) {
    assert.equal(fineTuneSchema.safeParse(input(bad)).success, false, bad);
  }
  assert.equal(fineTuneSchema.safeParse(input('job-1.2_x')).success, true);
  // Principal ids may be e-mail addresses.
  assert.equal(fineTuneSchema.safeParse(input('ok')).success, true);
});

test('every id the contracts accept is a valid S3 key segment, and derived ids are valid ids', () => {
  const alphabet = 'aZ09._-@/: %é';
  let checked = 0;
  for (let i = 0; i < 4000; i++) {
    // A deterministic walk over short strings of the interesting characters.
    let n = i;
    let s = '';
    do {
      s += alphabet[n % alphabet.length];
      n = Math.floor(n / alphabet.length);
    } while (n > 0);
    const derived = idFromWorkflowId(`w${s}`);
    assert.ok(isValidId(derived), `idFromWorkflowId(w${s}) = ${derived}`);
    if (!isValidId(s)) continue;
    checked++;
    for (const key of [checkpointPrefix(s, 1), modelPrefix(s), runDataPrefix(s), samplesPrefix(s)]) assert.ok(key.includes(s));
  }
  assert.ok(checked > 100, `checked ${checked} valid ids`);
});

test('every nonce a client can draw (base64url, possibly starting with - or _) has a key', () => {
  for (const nonce of ['-abcdefghijklmnop', '_abcdefghijklmnop', 'Abcdefghijklmnop']) assert.ok(requestNonceKey('alice@example.org', nonce).endsWith(`n${nonce}.json`));
});

test('a model download writes plain names and one plain folder deep (a LoRA model\'s adapter/), nothing else', () => {
  for (const good of ['config.json', 'model-00001-of-00003.safetensors', 'adapter/adapter_config.json', 'adapter/adapter_model.safetensors']) assert.ok(isModelFileName(good), good);
  for (const bad of ['', '/etc/passwd', '../x', 'a/../b', 'adapter/..', '.hidden', 'adapter/.hidden', 'a/b/c', 'adapter/', '/adapter', 'a\\b', 'a b']) assert.ok(!isModelFileName(bad), JSON.stringify(bad));
});
