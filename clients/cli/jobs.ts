// `veil jobs list|show|watch|cancel|ui-filter`: the fine-tune and sample jobs on Veil's task queue, from
// Temporal's own records.
import type { Command } from 'commander';
import type { SampleResult } from '../../contracts/sample.ts';
import { cancelJob, listJobs, resolveJob, showJob, uiFilter, watchJob, type JobDetails, type JobSummary } from '../sdk/jobs/index.ts';
import { UsageError, numberFlag, usageErrorsExit2, withTemporal, workflowListUrl, workflowUrl } from './command-line.ts';
import { describeActivity, describeOutcome, formatDuration } from './job-format.ts';
import { followFineTune, reportFineTune } from './progress-view.ts';
import { requireToken } from './token.ts';

const kindLabel = (kind: string): string => (kind === 'fineTune' ? 'finetune' : kind);

function listLine(j: JobSummary): string[] {
  const state =
    j.status === 'running' ? describeActivity(j.activity) : j.resultStatus && j.resultStatus !== 'completed' ? j.resultStatus : j.closeTime ? `took ${formatDuration(j.closeTime.getTime() - j.startTime.getTime())}` : '';
  const status = j.resultStatus && j.resultStatus !== 'completed' ? `${j.status} (${j.resultStatus})` : j.status;
  return [kindLabel(j.kind), j.workflowId, status, j.startTime.toISOString().replace(/\.\d+Z$/, 'Z'), `${state}${j.scheduleId ? ` [schedule ${j.scheduleId}]` : ''}`];
}

function printTable(rows: string[][]): void {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  for (const r of rows) console.log(r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]))).join('  '));
}

function printDetails(d: JobDetails): void {
  console.log(`${kindLabel(d.kind)} job ${d.workflowId}: ${d.status}`);
  console.log(`  ${workflowUrl(d.workflowId)}`);
  console.log(`  started ${d.startTime.toISOString()}${d.closeTime ? `, closed ${d.closeTime.toISOString()}` : ''}${d.scheduleId ? ` (schedule ${d.scheduleId})` : ''}`);
  console.log('input:');
  for (const [key, value] of Object.entries(d.input)) console.log(`  ${key}: ${typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value)}`);
  if (d.status === 'running') console.log(`now: ${describeActivity(d.activity)}`);
  if (d.outcome) console.log(`result: ${describeOutcome(d.outcome)}`);
}

/** Job states as JSON: dates as ISO strings. */
const json = (value: unknown): string => JSON.stringify(value);

export function registerJobsCommands(program: Command): void {
  const jobs = usageErrorsExit2(program.command('jobs').description('Fine-tune and sample jobs: list them, show one, cancel one'));

  jobs
    .command('list')
    .description('List fine-tune and sample jobs on this task queue, newest first: status, start time, and for running fine-tunes the last progress')
    .option('--limit <n>', 'at most this many jobs', '20')
    .option('--json', 'print a JSON array')
    .action(async (opts: { limit: string; json?: boolean }) => {
      const limit = numberFlag('--limit', opts.limit);
      if (!limit || !Number.isInteger(limit) || limit < 1) throw new UsageError(`--limit: expected a positive integer, got "${opts.limit}"`);
      const list = await withTemporal((client, taskQueue) => listJobs(client, { taskQueue, limit }));
      if (opts.json) return console.log(json(list));
      if (list.length === 0) return console.log('no jobs yet (start one with `veil finetune` or `veil sample`)');
      printTable([['KIND', 'JOB', 'STATUS', 'STARTED', 'STATE'], ...list.map(listLine)]);
    });

  jobs
    .command('show')
    .description('Show a job: status, its input (configuration only, never data), progress and result')
    .argument('<id>', 'a job id (abc123) or workflow id (finetune-abc123)')
    .option('--json', 'print as JSON')
    .action(async (id: string, opts: { json?: boolean }) => {
      const details = await withTemporal((client) => showJob(client, id));
      if (opts.json) return console.log(json(details));
      printDetails(details);
    });

  jobs
    .command('watch')
    .description('Follow a job until it ends (a fine-tune with its progress bar), then print its result; exit codes as `veil finetune`')
    .argument('<id>', 'a job id (abc123) or workflow id (finetune-abc123)')
    .option('--json', 'no progress; print the final result as one JSON line')
    .action(async (id: string, opts: { json?: boolean }) => {
      await withTemporal(async (client, taskQueue) => {
        const { workflowId, kind } = await resolveJob(client, id);
        if (kind === 'fineTune') {
          process.exitCode = reportFineTune(await followFineTune(client, taskQueue, { jobId: id, workflowId }, Boolean(opts.json)), Boolean(opts.json));
          return;
        }
        const outcome = await watchJob<SampleResult>(client, workflowId);
        console.log(opts.json ? JSON.stringify(outcome) : describeOutcome(outcome));
        if (outcome.status !== 'completed') process.exitCode = 1;
      });
    });

  jobs
    .command('ui-filter')
    .description(
      "Print the Temporal UI's list query for your own fine-tunes (or, with --dataset, for every job on a dataset you own). " +
        'The list shows analysts and datasets as keyed pseudonyms, never names: paste the query into the UI\'s search box.',
    )
    .option('--dataset <name>', 'a dataset you own: the query of every fine-tune on it')
    .option('--json', 'print the answer as JSON')
    .action(async (opts: { dataset?: string; json?: boolean }) => {
      const token = requireToken();
      const answer = await withTemporal((client, taskQueue) => uiFilter(client, { taskQueue, token, dataset: opts.dataset }));
      if (opts.json) return console.log(json(answer));
      console.log(answer.query);
      console.log(`  (${answer.dataset ? `every fine-tune on ${answer.dataset.name}` : `the fine-tunes of ${answer.principal}`}: paste into the search box at ${workflowListUrl()})`);
    });

  jobs
    .command('cancel')
    .description(
      'Request cancellation of a job. A fine-tune stops training within one step, keeps its checkpoint and charges the ε it spent; ' +
        'the command prints that result when it arrives.',
    )
    .argument('<id>', 'a job id (abc123) or workflow id (finetune-abc123)')
    .option('--no-wait', 'return once cancellation is requested')
    .option('--json', 'print the outcome as JSON')
    .action(async (id: string, opts: { wait: boolean; json?: boolean }) => {
      const r = await withTemporal((client) => cancelJob(client, id, { wait: opts.wait }));
      if (opts.json) return console.log(json(r));
      if (!r.wasRunning) console.log(`job ${r.workflowId} had already ended`);
      else console.log(`cancellation requested for ${r.workflowId}`);
      if (r.outcome) console.log(describeOutcome(r.outcome));
    });
}
