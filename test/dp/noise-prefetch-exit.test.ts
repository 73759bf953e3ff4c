// The prefetcher's worker keeps the process alive exactly while the caller waits on it: a
// prefetcher left unclosed (a crashed trainer, a forgetful bench) must not hold the process open,
// and a wait on the noise must not be cut short by the process exiting under it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('./prefetch-exit.ts', import.meta.url));

void test('a process whose prefetcher was awaited and never closed exits by itself', async () => {
  const started = performance.now();
  const { code, stdout } = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', SCRIPT], { timeout: 60_000 }, (error, out) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout: out });
    });
  });
  assert.equal(stdout.trim(), 'noised', 'the awaited noise arrived');
  assert.equal(code, 0, `the process did not exit by itself (after ${((performance.now() - started) / 1e3).toFixed(1)} s)`);
});
