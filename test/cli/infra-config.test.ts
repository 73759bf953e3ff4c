// `veil infra config` prints the values in effect (from the environment or the default), never the
// S3 secret, and refuses an invalid value with exit code 2.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { configInEffect } from '../../clients/cli/infra.ts';
import { describeRun, jsonOf, runVeil } from './harness.ts';

test('the values in effect, their source, and the secret hidden', () => {
  const byName = Object.fromEntries(configInEffect({ VEIL_S3_BUCKET: 'my-bucket', VEIL_S3_SECRET_KEY: 'not-to-be-printed' }).map((v) => [v.name, v]));
  assert.deepEqual([byName.VEIL_S3_BUCKET.value, byName.VEIL_S3_BUCKET.source], ['my-bucket', 'environment']);
  assert.deepEqual([byName.TEMPORAL_ADDRESS.value, byName.TEMPORAL_ADDRESS.source], ['127.0.0.1:7233', 'default']);
  assert.equal(byName.VEIL_S3_SECRET_KEY.value, '(set, hidden)');
  assert.doesNotMatch(JSON.stringify(byName), /not-to-be-printed/);
});

test('veil infra config --json shows the environment in effect; an invalid value exits 2', async () => {
  const run = await runVeil(['infra', 'config', '--json'], { env: { VEIL_TASK_QUEUE: 'staging-queue', VEIL_S3_SECRET_KEY: 'not-to-be-printed' } });
  assert.equal(run.code, 0, describeRun(run));
  const shown = jsonOf<Record<string, { value: string; source: string }>>(run);
  assert.deepEqual(shown.VEIL_TASK_QUEUE, { value: 'staging-queue', source: 'environment' });
  assert.doesNotMatch(run.stdout, /not-to-be-printed/);
  const bad = await runVeil(['infra', 'config'], { env: { VEIL_S3_BUCKET: 'X' } });
  assert.equal(bad.code, 2, describeRun(bad));
  assert.match(bad.stderr, /VEIL_S3_BUCKET="X"/);
});
