// `veil jobs list|show|watch|cancel`: the fine-tune and sample jobs on Veil's task queue, from
// Temporal's own records. Also what every job command shares: the client, URLs, usage errors
// (exit code 2), formatting of ε and progress, and the live progress view of a fine-tune.
import { Command } from 'commander';
import cliProgress from 'cli-progress';
import type { Client } from '@temporalio/client';
import { config, taskQueueNames } from '../../infra/config.ts';
import { temporalUiAddress } from '../../infra/servers/temporal.ts';
import { temporalClient } from '../../infra/temporal.ts';
import type { FineTuneResult } from '../../workflows/fineTune/spec.ts';
import type { SampleResult } from '../../workflows/sample/spec.ts';
import {
  cancelJob,
  listJobs,
  resolveJob,
  showJob,
  watchFineTune,
  watchJob,
  type JobActivity,
  type JobDetails,
  type JobOutcome,
  type JobSummary,
  type StartedJob,
  type TrainProgress,
} from '../sdk/jobs.ts';

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

/**
 * Runs `fn` with a Temporal client and the configured light task queue. Job commands need
 * Temporal only (not S3), so they keep working while the object store is down.
 */
export async function withTemporal<T>(fn: (client: Client, taskQueue: string) => Promise<T>): Promise<T> {
  const client = await temporalClient();
  try {
    return await fn(client, taskQueueNames().light);
  } finally {
    await client.connection.close();
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

/** The activities of the fineTune and sample workflows, as phases a user recognises. */
const PHASES: Record<string, string> = {
  prepareTrainingData: 'preparing the data',
  planPrivacy: 'planning the privacy (σ for the target ε)',
  reserveBudget: 'reserving ε on the ledger',
  evaluateModel: 'evaluating (DP-released test loss)',
  commitBudget: 'charging the ε spent',
  spentSoFar: 'reading the ε spent so far',
  registerModel: 'registering the model',
  checkRelease: 'checking the release policy',
  generateSamples: 'generating',
};

/** What a running job does, in words: "training: step 4/12, loss 3.210, ε 1.02". */
export function describeActivity(a: JobActivity | null): string {
  if (!a) return 'running';
  const retry = a.attempt > 1 ? ` (attempt ${a.attempt}${a.lastFailure ? `: ${a.lastFailure}` : ''})` : '';
  if (a.activity === 'train') return `training: ${a.progress && a.progress.totalSteps > 0 ? formatProgress(a.progress) : 'starting'}${retry}`;
  return `${PHASES[a.activity] ?? a.activity}${retry}`;
}

/** A fine-tune's result in two lines: the evaluation message, then the model and its privacy. */
export function describeFineTuneResult(r: FineTuneResult): string {
  if (r.status === 'budget-exhausted') return `budget exhausted: ${r.message}`;
  if (r.status === 'cancelled') return r.message;
  const delta = r.delta === null ? '' : `, δ=${r.delta.toPrecision(3)}`;
  return [`${r.message}`, `model ${r.modelId} (ε=${formatEpsilon(r.epsilon)}${delta}, ${r.steps} steps on ${r.trainRows} rows)`, ...describeDataReport(r.dataReport)].join('\n');
}

/** The data report in a line or two: failures per function, rows without text, rows cut. */
function describeDataReport(report: FineTuneResult['dataReport']): string[] {
  if (!report) return [];
  const about = report.epsilon === null ? '' : 'about ';
  const failed = report.preprocessing.filter((s) => s.failures).map((s) => `${s.function?.name ?? s.kind} failed on ${about}${s.failures!.count}`);
  const parts = [...failed, `${about}${report.skippedRows} without text`, `${about}${report.truncatedRows} cut to the maximum length`];
  return [`rows: ${parts.join(', ')}`, `  (${report.notice})`];
}

export function describeOutcome(o: JobOutcome<FineTuneResult | SampleResult>): string {
  if (o.status !== 'completed') return `${o.status}: ${o.message}`;
  if ('samples' in o.result) return `${o.result.samples.length} samples from model ${o.result.modelId} (ε=${formatEpsilon(o.result.epsilon)}), stored at ${o.result.key}`;
  return describeFineTuneResult(o.result);
}

/** `veil finetune` and `veil jobs watch` exit codes, by how the fine-tune ended. */
export const EXIT = { completed: 0, failed: 1, 'budget-exhausted': 3, cancelled: 4 } as const;

/** Live progress: a bar on a terminal, one line per change (at most every 10 s) otherwise. */
class ProgressView {
  private bar: cliProgress.SingleBar | undefined;
  private lastText = '';
  private lastLineAt = 0;
  /** First step seen and when: the rate is measured from here (a resumed run starts above 0). */
  private origin: { step: number; at: number } | undefined;
  /** When the step last changed: heartbeats arrive in bursts, so time since then counts down. */
  private lastChange: { step: number; at: number } | undefined;

  constructor(private readonly tty: boolean) {}

  update(activity: JobActivity | null): void {
    const p = activity?.activity === 'train' ? activity.progress : null;
    if (p && p.totalSteps > 0) return this.training(p);
    if (!activity) return; // between two activities
    const text = describeActivity(activity);
    if (text === this.lastText) return;
    this.lastText = text;
    if (this.bar) return; // evaluation and registration follow training: the bar stays until stop()
    this.line(`… ${text}`);
  }

  private eta(p: TrainProgress): string {
    const now = Date.now();
    if (!this.origin || p.step < this.origin.step) this.origin = this.lastChange = { step: p.step, at: now };
    if (p.step !== this.lastChange!.step) this.lastChange = { step: p.step, at: now };
    const done = this.lastChange!.step - this.origin.step;
    if (done <= 0) return '?';
    const perStep = (this.lastChange!.at - this.origin.at) / done;
    return formatDuration(Math.max(0, perStep * (p.totalSteps - p.step) - (now - this.lastChange!.at)));
  }

  private training(p: TrainProgress): void {
    // `remaining`, not `eta`: cli-progress fills {eta} itself, from the calls' timing.
    const values = { loss: p.loss === null ? '–' : p.loss.toFixed(3), epsilon: formatEpsilon(p.epsilon), remaining: this.eta(p) };
    if (this.tty) {
      if (!this.bar) {
        this.bar = new cliProgress.SingleBar(
          { format: 'training {bar} {value}/{total} steps | loss {loss} | ε {epsilon} | ETA {remaining}', stream: process.stdout, hideCursor: true, fps: 5 },
          cliProgress.Presets.shades_classic,
        );
        this.bar.start(p.totalSteps, p.step, values);
      } else {
        this.bar.setTotal(p.totalSteps);
        this.bar.update(p.step, values);
      }
      return;
    }
    const text = `training: ${formatProgress(p)}, ETA ${values.remaining}`;
    if (text !== this.lastText && (Date.now() - this.lastLineAt >= 10_000 || p.step === p.totalSteps)) {
      this.lastText = text;
      this.line(text);
    }
  }

  private line(text: string): void {
    if (this.bar) return;
    this.lastLineAt = Date.now();
    console.log(text);
  }

  stop(): void {
    this.bar?.stop();
    this.bar = undefined;
  }
}

const NO_WORKER_HINT_AFTER_MS = 5_000;

/** Follows a fine-tune (progress on stdout unless `json`); Ctrl-C stops watching (the job runs on), exit code 130. */
export async function followFineTune(client: Client, taskQueue: string, job: Pick<StartedJob, 'jobId' | 'workflowId'>, json: boolean): Promise<JobOutcome<FineTuneResult>> {
  const view = json ? undefined : new ProgressView(Boolean(process.stdout.isTTY));
  const stop = new AbortController();
  const onSigint = (): void => stop.abort(new Error('interrupted'));
  process.once('SIGINT', onSigint);
  const startedAt = Date.now();
  let hinted = false;
  try {
    return await watchFineTune(client, job.workflowId, {
      signal: stop.signal,
      onUpdate: ({ status, activity, historyLength }) => {
        view?.update(activity);
        // Only the start events in the history: no worker has picked the workflow up yet.
        if (!hinted && status === 'running' && historyLength <= 2 && Date.now() - startedAt > NO_WORKER_HINT_AFTER_MS) {
          hinted = true;
          process.stderr.write(`veil: still waiting for a worker on task queue "${taskQueue}": is \`veil worker\` running?\n`);
        }
      },
    });
  } catch (err) {
    if (!stop.signal.aborted) throw err;
    view?.stop();
    process.stderr.write(`\nstopped watching; job ${job.jobId} keeps running (veil jobs show ${job.jobId}, veil jobs cancel ${job.jobId})\n`);
    return process.exit(130);
  } finally {
    view?.stop();
    process.off('SIGINT', onSigint);
  }
}

export function reportFineTune(outcome: JobOutcome<FineTuneResult>, json: boolean): number {
  if (outcome.status !== 'completed') {
    if (json) console.log(JSON.stringify(outcome));
    else console.error(`veil: fine-tune ${outcome.status}: ${outcome.message}`);
    return outcome.status === 'cancelled' ? EXIT.cancelled : EXIT.failed;
  }
  const r = outcome.result;
  console.log(json ? JSON.stringify(r) : describeFineTuneResult(r));
  return EXIT[r.status];
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
