// `veil infra up` is run by the test command before this file; here we check that running it
// again is harmless (it reuses the servers, same pids) and that both servers answer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { projectRoot } from '../../infra/config.ts';

const veil = (...args: string[]) => execFileSync(process.execPath, [join(projectRoot, 'bin/veil.js'), ...args], { encoding: 'utf8' });

test('infra up twice in a row reuses the running servers', () => {
  const before = JSON.parse(veil('infra', 'status', '--json'));
  assert.equal(before.temporal.healthy, true);
  assert.equal(before.s3.healthy, true);
  const up = JSON.parse(veil('infra', 'up', '--json'));
  assert.equal(up.temporal, 'already running');
  assert.equal(up.s3, 'already running');
  const after = JSON.parse(veil('infra', 'status', '--json'));
  assert.equal(after.temporal.pid, before.temporal.pid);
  assert.equal(after.s3.pid, before.s3.pid);
});

test('the Temporal web UI answers', async () => {
  const status = JSON.parse(veil('infra', 'status', '--json'));
  const res = await fetch(status.temporal.ui);
  assert.equal(res.status, 200);
  assert.match(await res.text(), /<html/i);
});

test('a bad configuration value fails at start, naming the variable, exit code 2', () => {
  assert.throws(
    () => execFileSync(process.execPath, [join(projectRoot, 'bin/veil.js'), 'infra', 'status'], { env: { ...process.env, TEMPORAL_ADDRESS: 'nope' }, stdio: 'pipe' }),
    (err: { status: number; stderr: Buffer }) => {
      assert.equal(err.status, 2);
      assert.match(err.stderr.toString(), /TEMPORAL_ADDRESS/);
      return true;
    },
  );
});
