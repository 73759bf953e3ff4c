// `veil jobs list|show|cancel`: the fine-tune and sample jobs on Veil's task queue, from
// Temporal's own records. Also the small helpers every job command shares (client, URLs, usage
// errors with exit code 2, formatting of ε and progress).
import { Command } from 'commander';
import { config } from '../../infra/config.ts';
import { temporalUiAddress } from '../../infra/servers/temporal.ts';
import type { FineTuneResult } from '../../workflows/fineTune/spec.ts';
import type { SampleResult } from '../../workflows/sample/spec.ts';
import { VeilClient } from '../sdk/client.ts';
import type { JobActivity, JobDetails, JobOutcome, JobSummary, TrainProgress } from '../sdk/jobs.ts';

/** A mistake in the command line: exit code 2, the message names the flag. */
export class UsageError extends Error {
  override name = 'UsageError';
  readonly exitCode = 2;
}

/** Commander's own parse errors (unknown flag, missing value) also exit with 2, like ours. */
export function usageErrorsExit2(command: Command): Command {
  return command.exitOverride((err) => {
    process.exit(err.exitCode === 0 ? 0 : 2);
  });
}

export async function withClient<T>(fn: (client: VeilClient) => Promise<T>): Promise<T> {
  const client = await VeilClient.connect();
  try {
    return await fn(client);
  } finally {
    await client.close();
  }
}

export function workflowUrl(workflowId: string): string {
  const cfg = config();
  return `${temporalUiAddress(cfg)}/namespaces/${encodeURIComponent(cfg.TEMPORAL_NAMESPACE)}/workflows/${encodeURIComponent(workflowId)}`;
}

export function numberFlag(flag: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(value)) throw new UsageError(`${flag}: expected a number, got "${raw}"`);
  return value;
}

/** A finite ε or the word 'unlimited'. */
export function epsilonFlag(flag: string, raw: string | undefined): number | 'unlimited' | undefined {
  if (raw === 'unlimited') return 'unlimited';
  return numberFlag(flag, raw);
}

export function requireFlags(opts: Record<string, unknown>, required: Record<string, string>): void {
  const missing = Object.entries(required).filter(([key]) => opts[key] === undefined).map(([, flag]) => flag);
  if (missing.length) throw new UsageError(`missing required flag${missing.length > 1 ? 's' : ''}: ${missing.join(', ')}`);
}

export const formatEpsilon = (e: number | 'unlimited'): string => (e === 'unlimited' ? 'unlimited' : e.toFixed(2));

export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '?';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

export function formatProgress(p: TrainProgress): string {
  const parts = [`step ${p.step}/${p.totalSteps || '?'}`];
  if (p.loss !== null) parts.push(`loss ${p.loss.toFixed(3)}`);
  parts.push(`ε ${formatEpsilon(p.epsilon)}`);
  return parts.join(', ');
}

/** What a running job does, in words: "training: step 4/12, loss 3.210, ε 1.02". */
export function describeActivity(a: JobActivity | null): string {
  if (!a) return 'waiting for a worker';
  const retry = a.attempt > 1 ? ` (attempt ${a.attempt}${a.lastFailure ? `: ${a.lastFailure}` : ''})` : '';
  if (a.activity === 'train') return `training${a.progress ? `: ${formatProgress(a.progress)}` : ''}${retry}`;
  return `${a.activity}${retry}`;
}

/** A fine-tune's result in two lines: the evaluation message, then the model and its privacy. */
export function describeFineTuneResult(r: FineTuneResult): string {
  if (r.status === 'budget-exhausted') return `budget exhausted: ${r.message}`;
  if (r.status === 'cancelled') return r.message;
  const delta = r.delta === null ? '' : `, δ=${r.delta.toPrecision(3)}`;
  return `${r.message}\nmodel ${r.modelId} (ε=${formatEpsilon(r.epsilon)}${delta}, ${r.steps} steps on ${r.trainRows} rows)`;
}

export function describeOutcome(o: JobOutcome<FineTuneResult | SampleResult>): string {
  if (o.status !== 'completed') return `${o.status}: ${o.message}`;
  if ('samples' in o.result) return `${o.result.samples.length} samples from model ${o.result.modelId} (ε=${formatEpsilon(o.result.epsilon)}), stored at ${o.result.key}`;
  return describeFineTuneResult(o.result);
}

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
      const list = await withClient((client) => client.listJobs({ limit }));
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
      const details = await withClient((client) => client.showJob(id));
      if (opts.json) return console.log(json(details));
      printDetails(details);
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
      const r = await withClient((client) => client.cancelJob(id, { wait: opts.wait }));
      if (opts.json) return console.log(json(r));
      if (!r.wasRunning) console.log(`job ${r.workflowId} had already ended`);
      else console.log(`cancellation requested for ${r.workflowId}`);
      if (r.outcome) console.log(describeOutcome(r.outcome));
    });
}
