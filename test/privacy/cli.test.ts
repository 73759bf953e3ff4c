// `veil privacy epsilon|noise`: one JSON object on stdout; bad input (ε ≤ 0, δ ∉ (0, 1),
// q ∉ (0, 1], σ ≤ 0, steps < 1, NaN, text, an unreachable target, pld) is a PrivacyInputError
// naming the flag and the limit, which the veil entry point turns into exit code 2.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { registerPrivacyCommands } from '../../clients/cli/privacy.ts';
import { PrivacyInputError } from '../../engine/privacy/index.ts';
import { reference } from './reference-fixture.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));

async function run(args: string[]): Promise<Record<string, number>> {
  const out: string[] = [];
  const program = new Command().exitOverride();
  registerPrivacyCommands(program, (text) => out.push(text));
  await program.parseAsync(['node', 'veil', 'privacy', ...args]);
  assert.equal(out.length, 1, 'exactly one line of output');
  assert.ok(out[0].endsWith('\n') && !out[0].slice(0, -1).includes('\n'));
  return JSON.parse(out[0]) as Record<string, number>;
}

async function failure(args: string[]): Promise<PrivacyInputError> {
  try {
    await run(args);
  } catch (err) {
    assert.ok(err instanceof PrivacyInputError, `expected a PrivacyInputError, got ${String(err)}`);
    assert.equal(err.exitCode, 2);
    return err;
  }
  assert.fail(`veil privacy ${args.join(' ')} did not fail`);
}

const c = reference.single.find((x) => x.prv !== null && x.steps > 1000) ?? reference.single[0];
const runFlags = ['--sample-rate', String(c.sampleRate), '--noise-multiplier', String(c.noiseMultiplier), '--steps', String(c.steps), '--delta', String(c.delta)];

void test('epsilon --accountant rdp prints {"epsilon"} equal to Opacus', async () => {
  const result = await run(['epsilon', '--accountant', 'rdp', ...runFlags]);
  assert.deepEqual(Object.keys(result), ['epsilon']);
  assert.ok(Math.abs(result.epsilon - c.rdp.epsilon) <= 1e-6 * c.rdp.epsilon);
});

void test('epsilon --accountant prv prints an upper bound agreeing with Opacus PRV', async () => {
  const result = await run(['epsilon', '--accountant', 'prv', ...runFlags]);
  assert.ok(c.prv !== null && Math.abs(result.epsilon - c.prv.opacusUpper) <= 0.01);
});

void test('noise prints {"noiseMultiplier", "epsilon"} with ε within the tolerance below the target', async () => {
  for (const accountant of ['rdp', 'prv']) {
    const result = await run(['noise', '--accountant', accountant, '--target-epsilon', '3', '--sample-rate', '0.01', '--steps', '2000', '--delta', '1e-5']);
    assert.deepEqual(Object.keys(result), ['noiseMultiplier', 'epsilon']);
    assert.ok(result.epsilon <= 3 && result.epsilon >= 2.99 && result.noiseMultiplier > 0, JSON.stringify(result));
  }
});

void test('bad input names the flag and its limit', async () => {
  const epsilonFlags = (change: Record<string, string>): string[] => {
    const flags: Record<string, string> = { '--sample-rate': '0.01', '--noise-multiplier': '1', '--steps': '100', '--delta': '1e-5', ...change };
    return ['epsilon', ...Object.entries(flags).flatMap(([k, v]) => (v === '' ? [] : [k, v]))];
  };
  const cases: [string[], string, RegExp][] = [
    [epsilonFlags({ '--sample-rate': '0' }), '--sample-rate', /\(0, 1\]/],
    [epsilonFlags({ '--sample-rate': '1.5' }), '--sample-rate', /\(0, 1\]/],
    [epsilonFlags({ '--sample-rate': 'NaN' }), '--sample-rate', /number/],
    [epsilonFlags({ '--noise-multiplier': '0' }), '--noise-multiplier', /> 0/],
    [epsilonFlags({ '--noise-multiplier': '-1' }), '--noise-multiplier', /> 0/],
    [epsilonFlags({ '--steps': '0' }), '--steps', /≥ 1/],
    [epsilonFlags({ '--steps': '2.5' }), '--steps', /integer/],
    [epsilonFlags({ '--delta': '0' }), '--delta', /\(0, 1\)/],
    [epsilonFlags({ '--delta': '1' }), '--delta', /\(0, 1\)/],
    [epsilonFlags({ '--delta': 'ten' }), '--delta', /number, got 'ten'/],
    [epsilonFlags({ '--delta': '' }), '--delta', /required/],
    [epsilonFlags({ '--accountant': 'pld' }), '--accountant', /'pld' is not available.*'prv'/],
    [epsilonFlags({ '--accountant': 'moments' }), '--accountant', /'rdp' or 'prv'/],
    [['noise', '--target-epsilon', '0', '--sample-rate', '0.01', '--steps', '100', '--delta', '1e-5'], '--target-epsilon', /> 0/],
    [['noise', '--target-epsilon', '-3', '--sample-rate', '0.01', '--steps', '100', '--delta', '1e-5'], '--target-epsilon', /> 0/],
    [['noise', '--target-epsilon', '0.01', '--sample-rate', '1', '--steps', '100000', '--delta', '1e-5'], '--target-epsilon', /10000/],
    [['noise', '--accountant', 'pld', '--target-epsilon', '1', '--sample-rate', '0.01', '--steps', '100', '--delta', '1e-5'], '--accountant', /not available/],
  ];
  for (const [args, argument, message] of cases) {
    const err = await failure(args);
    assert.equal(err.argument, argument, args.join(' '));
    assert.match(err.message, new RegExp(`^${argument} `));
    assert.match(err.message, message, args.join(' '));
  }
});

void test('the veil entry point prints the JSON and exits 0, or the message and exit code 2', () => {
  const veil = (args: string[]): ReturnType<typeof spawnSync> => spawnSync(process.execPath, ['bin/veil.js', 'privacy', ...args], { cwd: root, encoding: 'utf8' });
  const ok = veil(['epsilon', '--accountant', 'rdp', ...runFlags]);
  assert.equal(ok.status, 0, String(ok.stderr));
  assert.ok(Math.abs((JSON.parse(String(ok.stdout)) as { epsilon: number }).epsilon - c.rdp.epsilon) <= 1e-6 * c.rdp.epsilon);
  const bad = veil(['epsilon', '--sample-rate', 'abc', '--noise-multiplier', '1', '--steps', '10', '--delta', '1e-5']);
  assert.equal(bad.status, 2);
  assert.equal(String(bad.stdout), '');
  assert.match(String(bad.stderr), /--sample-rate must be a number, got 'abc'/);
});
