// `veil generate` end to end on the golden fixture model.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expected, tinyModelDir } from './fixture.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));

function veil(...args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', 'clients/cli/main.ts', ...args], { cwd: root, encoding: 'utf8', env: { ...process.env, HF_HUB_CACHE: '/nonexistent-veil-cache' } });
}

void test('greedy --json prints each prompt followed by the continuation transformers produced', () => {
  const prompts = expected.greedy.map((g) => g.prompt);
  const r = veil('generate', '--model', tinyModelDir, ...prompts.flatMap((p) => ['--prompt', p]), '--temperature', '0', '--max-new-tokens', String(expected.greedy_new_tokens), '--json');
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { samples: { prompt: string; text: string }[]; seed: string };
  assert.deepEqual(out.samples, expected.greedy.map((g) => ({ prompt: g.prompt, text: g.text })));
});

void test('greedy with --draft prints the same text; --draft refuses sampling and several prompts', () => {
  const g = expected.greedy[0];
  const r = veil('generate', '--model', tinyModelDir, '--prompt', g.prompt, '--temperature', '0', '--max-new-tokens', String(expected.greedy_new_tokens), '--draft', '--json');
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual((JSON.parse(r.stdout) as { samples: unknown[] }).samples, [{ prompt: g.prompt, text: g.text }]);
  const sampled = veil('generate', '--model', tinyModelDir, '--prompt', g.prompt, '--draft');
  assert.notEqual(sampled.status, 0);
  assert.match(sampled.stderr, /--draft needs --temperature 0 and exactly one prompt/);
  const two = veil('generate', '--model', tinyModelDir, '--prompt', 'a', '--prompt', 'b', '--temperature', '0', '--draft');
  assert.notEqual(two.status, 0);
  assert.match(two.stderr, /--draft needs --temperature 0 and exactly one prompt/);
});

void test('sampling with a seed repeats exactly; options are validated; a missing model is a clear error', () => {
  const args = ['generate', '--model', tinyModelDir, '--prompt', 'Hello', '--max-new-tokens', '8', '--top-k', '20', '--top-p', '0.9', '--temperature', '0.8', '--seed', '42', '--json'];
  const a = veil(...args);
  const b = veil(...args);
  assert.equal(a.status, 0, a.stderr);
  assert.equal(a.stdout, b.stdout);
  assert.match((JSON.parse(a.stdout) as { samples: { text: string }[] }).samples[0].text, /^Hello./);
  const bad = veil('generate', '--model', tinyModelDir, '--top-p', '1.5');
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr, /top-p/);
  const missing = veil('generate', '--model', 'gpt2', '--prompt', 'x');
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /never downloads/);
});
