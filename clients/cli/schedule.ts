// `veil schedule create|list|show|pause|unpause|delete|trigger`: fine-tunes that run on their own
// (a Temporal Schedule starting the fineTune workflow). Each run gets its own job id, derived from
// the run's workflow id; a run that fails pauses the schedule (a failing job keeps its privacy
// charge), and so does a run the budget cannot cover (it ends failed, 'budget-exhausted').
import { requireToken } from './token.ts';
import { Command } from 'commander';
import {
  createFineTuneSchedule,
  deleteSchedule,
  describeFineTuneSchedule,
  listFineTuneSchedules,
  pauseSchedule,
  triggerSchedule,
  unpauseSchedule,
  validateScheduleOptions,
  type FineTuneScheduleInfo,
} from '../sdk/schedules.ts';
import { asFlagError, addFineTuneFlags, checkFlags, fineTuneInputFromFlags, type FineTuneFlags } from './finetune.ts';
import { usageErrorsExit2, withTemporal, workflowUrl } from './command-line.ts';

const SCHEDULE_FLAGS = { name: 'NAME', every: '--every', cron: '--cron' };

const iso = (d: Date): string => d.toISOString().replace(/\.\d+Z$/, 'Z');

function specOf(s: FineTuneScheduleInfo): string {
  return [s.every && `every ${s.every}`, s.cron && `cron "${s.cron}"`].filter(Boolean).join(' + ') || '(no spec)';
}

function lastRunOf(s: FineTuneScheduleInfo): string {
  const last = s.recentRuns.at(-1);
  if (!last) return 'no runs yet';
  return `${last.workflowId}: ${last.resultStatus ?? last.status}`;
}

function printSchedule(s: FineTuneScheduleInfo): void {
  console.log(`schedule ${s.name}: ${s.paused ? 'paused' : 'active'}${s.note ? ` (${s.note})` : ''}, ${specOf(s)}`);
  if (!s.paused && s.nextRuns[0]) console.log(`  next run ${iso(s.nextRuns[0])}`);
  for (const r of s.recentRuns) console.log(`  run ${r.workflowId} at ${iso(r.startedAt)}: ${r.status}${r.resultStatus ? ` (${r.resultStatus})` : ''}`);
  if (s.failedRuns) console.log(`  ${s.failedRuns} recent run(s) failed`);
}

export function registerScheduleCommands(program: Command): void {
  const schedule = usageErrorsExit2(program.command('schedule').description('Fine-tunes that run on a schedule (Temporal Schedules)'));

  addFineTuneFlags(
    schedule
      .command('create')
      .description(
        'Create a schedule that starts a fine-tune every interval or on a cron calendar, with the fine-tune flags of `veil finetune`. ' +
          "The schedule's id in the Temporal UI is NAME; each run gets its own job id (finetune-NAME-<time>). " +
            "A failed run pauses the schedule, and so does a run the budget cannot cover (it ends failed, 'budget-exhausted'): unpause it once the budget is raised.",
      )
      .argument('<name>', 'schedule name: letters, digits, . _ -')
      .option('--every <interval>', 'interval between runs: 30m, 12h, 1d, 1w, …')
      .option('--cron <expr>', 'cron expression, e.g. "0 3 * * *" (with --every: runs at the times of both)')
      .option('--paused', 'create it paused')
      .option('--note <text>', 'a note shown with the schedule state')
      .option('--json', 'print the schedule as JSON'),
    { jobId: false },
  ).action(async (name: string, opts: FineTuneFlags & { every?: string; cron?: string; paused?: boolean; note?: string; json?: boolean }) => {
    const options = { name, every: opts.every, cron: opts.cron, paused: opts.paused, note: opts.note, input: fineTuneInputFromFlags(opts) };
    checkFlags(() => validateScheduleOptions(options), SCHEDULE_FLAGS);
    const token = requireToken();
    const info = await withTemporal((client, taskQueue) =>
      createFineTuneSchedule(client, { ...options, taskQueue, token }).catch((err: unknown) => {
        throw asFlagError(err, SCHEDULE_FLAGS);
      }),
    );
    if (opts.json) return console.log(JSON.stringify(info));
    console.log(`created schedule ${info.name} (${info.paused ? 'paused' : 'active'}, ${specOf(info)})`);
    if (!info.paused && info.nextRuns[0]) console.log(`  next run ${iso(info.nextRuns[0])}`);
  });

  schedule
    .command('list')
    .description("List Veil's fine-tune schedules: state, spec, next and last run")
    .option('--json', 'print a JSON array')
    .action(async (opts: { json?: boolean }) => {
      const list = await withTemporal((client, taskQueue) => listFineTuneSchedules(client, { taskQueue }));
      if (opts.json) return console.log(JSON.stringify(list));
      if (list.length === 0) return console.log('no schedules (create one with `veil schedule create NAME --every 1d …`)');
      const rows = [['NAME', 'STATE', 'SPEC', 'NEXT RUN', 'LAST RUN'], ...list.map((s) => [s.name, s.paused ? 'paused' : 'active', specOf(s), s.paused || !s.nextRuns[0] ? '-' : iso(s.nextRuns[0]), lastRunOf(s)])];
      const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
      for (const r of rows) console.log(r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]))).join('  '));
    });

  schedule
    .command('show')
    .description('Show a schedule: state, spec, next run and its recent runs with their results')
    .argument('<name>')
    .option('--json', 'print as JSON')
    .action(async (name: string, opts: { json?: boolean }) => {
      const info = await withTemporal((client) => describeFineTuneSchedule(client, name));
      if (opts.json) return console.log(JSON.stringify(info));
      printSchedule(info);
    });

  schedule
    .command('pause')
    .description('Pause a schedule: no run starts until it is unpaused')
    .argument('<name>')
    .option('--note <text>', 'why (shown with the schedule)')
    .action(async (name: string, opts: { note?: string }) => {
      await withTemporal((client) => pauseSchedule(client, name, opts.note));
      console.log(`paused schedule ${name}`);
    });

  schedule
    .command('unpause')
    .description('Resume a paused schedule')
    .argument('<name>')
    .option('--note <text>', 'a note (shown with the schedule)')
    .action(async (name: string, opts: { note?: string }) => {
      await withTemporal((client) => unpauseSchedule(client, name, opts.note));
      console.log(`unpaused schedule ${name}`);
    });

  schedule
    .command('delete')
    .description('Delete a schedule (runs it started go on)')
    .argument('<name>')
    .action(async (name: string) => {
      await withTemporal((client) => deleteSchedule(client, name));
      console.log(`deleted schedule ${name}`);
    });

  schedule
    .command('trigger')
    .description('Start a run now (also when paused, and alongside a run in progress)')
    .argument('<name>')
    .option('--json', 'print {"workflowId": …} as JSON')
    .action(async (name: string, opts: { json?: boolean }) => {
      const { workflowId } = await withTemporal((client) => triggerSchedule(client, name));
      if (opts.json) return console.log(JSON.stringify({ workflowId }));
      if (!workflowId) return console.log(`triggered schedule ${name} (its run has not shown up yet: see veil schedule show ${name})`);
      console.log(`triggered schedule ${name}: run ${workflowId}\n  ${workflowUrl(workflowId)}`);
    });
}
