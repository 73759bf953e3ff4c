import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, loadConfig } from '../../infra/config.ts';

test('defaults apply when the environment is empty', () => {
  const cfg = loadConfig({});
  assert.equal(cfg.TEMPORAL_ADDRESS, '127.0.0.1:7233');
  assert.equal(cfg.VEIL_S3_ENDPOINT, 'http://127.0.0.1:9000');
  assert.equal(cfg.TEMPORAL_UI_PORT, 8233);
  assert.equal(cfg.VEIL_S3_BUCKET, 'veil');
});

test('environment values override defaults and are coerced', () => {
  const cfg = loadConfig({ TEMPORAL_ADDRESS: 'temporal.internal:7300', TEMPORAL_UI_PORT: '9999', VEIL_S3_BUCKET: 'my-bucket' });
  assert.equal(cfg.TEMPORAL_ADDRESS, 'temporal.internal:7300');
  assert.equal(cfg.TEMPORAL_UI_PORT, 9999);
  assert.equal(cfg.VEIL_S3_BUCKET, 'my-bucket');
});

test('every bad variable is named in one clear error with exit code 2', () => {
  assert.throws(
    () => loadConfig({ TEMPORAL_ADDRESS: 'no-port', VEIL_S3_ENDPOINT: 'not a url', TEMPORAL_UI_PORT: '70000', VEIL_S3_SECRET_KEY: 'short' }),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.equal(err.exitCode, 2);
      for (const name of ['TEMPORAL_ADDRESS', 'VEIL_S3_ENDPOINT', 'TEMPORAL_UI_PORT', 'VEIL_S3_SECRET_KEY']) assert.match(err.message, new RegExp(name));
      assert.doesNotMatch(err.message, /VEIL_S3_BUCKET/);
      return true;
    },
  );
});
