// Flag mistakes are caught before anything connects: exit code 2 and a message naming the flag.
// Most cases run the command groups in this process (fast); a few run the real `veil` binary to
// check the exit code end to end. Temporal's address points at a closed port throughout, so a
// command that tried to connect would fail differently (exit 1, a connection error).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Command } from 'commander';
import { describeRun, runVeil } from './harness.ts';

const CLOSED_PORT = '127.0.0.1:1';
process.env.TEMPORAL_ADDRESS = CLOSED_PORT;
// Loaded after the variable is set: the configuration is read once, on first use.
const { registerFinetuneCommands } = await import('../../clients/cli/finetune.ts');
const { registerJobsCommands } = await import('../../clients/cli/jobs.ts');
const { registerSampleCommands } = await import('../../clients/cli/sample.ts');
const { registerScheduleCommands } = await import('../../clients/cli/schedule.ts');

const valid = ['--dataset', 'notes', '--analyst', 'alice', '--text-column', 'note', '--model', 'tiny', '--target-epsilon', '8', '--batch-size', '12', '--epochs', '1'];

/** `valid` with `flag` set to `value` (or removed when value is null). */
function withFlag(flag: string, value: string | null): string[] {
  const args = [...valid];
  const at = args.indexOf(flag);
  if (at >= 0) args.splice(at, 2);
  return value === null ? args : [...args, flag, value];
}

/** Runs `veil <args>` in this process; resolves with the error its action threw. */
async function actionError(args: string[]): Promise<Error & { exitCode?: number }> {
  const program = new Command().exitOverride();
  registerFinetuneCommands(program);
  registerJobsCommands(program);
  registerSampleCommands(program);
  registerScheduleCommands(program);
  try {
    await program.parseAsync(args, { from: 'user' });
  } catch (err) {
    return err as Error;
  }
  throw new Error(`veil ${args.join(' ')} did not fail`);
}

const cases: { name: string; args: string[]; flags: RegExp[] }[] = [
  { name: 'missing required flags are all listed', args: ['finetune', '--dataset', 'notes'], flags: [/--analyst/, /--text-column/, /--model/, /--target-epsilon/, /--batch-size/, /--epochs/] },
  { name: 'a number flag that is not a number', args: ['finetune', ...withFlag('--batch-size', 'twelve')], flags: [/--batch-size: expected a number, got "twelve"/] },
  { name: 'values the schema refuses, each named', args: ['finetune', ...withFlag('--max-seq-len', '1'), '--target-epsilon', '-2', '--lr', '50'], flags: [/--max-seq-len:/, /--target-epsilon:/, /--lr:/] },
  { name: 'a non-integer batch size', args: ['finetune', ...withFlag('--batch-size', '4.5')], flags: [/--batch-size:.*int/] },
  { name: 'a bad dataset version', args: ['finetune', ...withFlag('--dataset', 'notes@zero')], flags: [/--dataset:.*version/] },
  { name: 'a bad dataset name', args: ['finetune', ...withFlag('--dataset', 'Notes!')], flags: [/--dataset:/] },
  { name: 'both split flags', args: ['finetune', ...valid, '--test-fraction', '0.2', '--test-from', '50'], flags: [/--test-fraction and --test-from/] },
  { name: 'a test fraction out of (0, 1)', args: ['finetune', ...valid, '--test-fraction', '1.5'], flags: [/--test-fraction:/] },
  { name: 'a bad job id', args: ['finetune', ...valid, '--job-id', 'has space'], flags: [/--job-id:/] },
  { name: "ε neither a number nor 'unlimited'", args: ['finetune', ...withFlag('--target-epsilon', 'infinite')], flags: [/--target-epsilon: expected a number/] },
  { name: 'sample: no prompt and no unconditional', args: ['sample', '--model', 'm1', '--analyst', 'alice', '--max-epsilon', '5'], flags: [/--prompt or --unconditional/] },
  { name: 'sample: a bad ε', args: ['sample', '--model', 'm1', '--analyst', 'alice', '--max-epsilon', 'lots', '--unconditional', '1'], flags: [/--max-epsilon: expected a number/] },
  { name: 'sample: schema limits', args: ['sample', '--model', 'm1', '--analyst', 'alice', '--max-epsilon', '5', '--unconditional', '1', '--top-p', '2', '--max-new-tokens', '0'], flags: [/--top-p:/, /--max-new-tokens:/] },
  { name: 'sample: a bad model id', args: ['sample', '--model', 'a/b', '--analyst', 'alice', '--max-epsilon', '5', '--unconditional', '1'], flags: [/--model:/] },
  { name: 'schedule: neither --every nor --cron', args: ['schedule', 'create', 'nightly', ...valid], flags: [/--every:/] },
  { name: 'schedule: a bad interval', args: ['schedule', 'create', 'nightly', '--every', '1 fortnight', ...valid], flags: [/--every:.*not an interval/] },
  { name: 'schedule: a bad name', args: ['schedule', 'create', 'night/ly', '--every', '1d', ...valid], flags: [/NAME:/] },
  { name: 'schedule: the fine-tune flags are checked too', args: ['schedule', 'create', 'nightly', '--every', '1d', ...withFlag('--epochs', '-1')], flags: [/--epochs:/] },
  { name: 'jobs list: a bad limit', args: ['jobs', 'list', '--limit', '0'], flags: [/--limit:/] },
];

for (const c of cases) {
  test(`usage error: ${c.name}`, async () => {
    const err = await actionError(c.args);
    assert.equal(err.exitCode, 2, `${err.name}: ${err.message}`);
    for (const flag of c.flags) assert.match(err.message, flag);
  });
}

test('the veil binary exits with 2 for flag mistakes, its own and commander’s, without connecting', async () => {
  const offline = { env: { TEMPORAL_ADDRESS: CLOSED_PORT } };
  const runs = await Promise.all([
    runVeil(['finetune', ...withFlag('--max-seq-len', '1'), '--target-epsilon', '-2'], offline),
    runVeil(['finetune', ...valid, '--epoch', '3'], offline),
  ]);
  assert.equal(runs[0].code, 2, describeRun(runs[0]));
  assert.match(runs[0].stderr, /^veil: invalid flags:\n {2}--max-seq-len: .*\n {2}--target-epsilon: /m);
  assert.equal(runs[1].code, 2, describeRun(runs[1]));
  assert.match(runs[1].stderr, /unknown option '--epoch'/);
  for (const run of runs) assert.doesNotMatch(run.stderr, /connect|deadline|transport/i);
});
