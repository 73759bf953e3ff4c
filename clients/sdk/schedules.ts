// Scheduled fine-tunes: a Temporal Schedule that starts the fineTune workflow every interval (or
// on a cron calendar). The schedule's id is its name, as the CLI and the Temporal UI both show it
// (schedules created before were `finetune-<name>` and are still found by name). Temporal names
// each run `finetune-<name>-<scheduled time>`; the input leaves
// jobId unset, so every run's job id (privacy charge, checkpoints, model id) is derived from that
// unique workflow id. A run that fails pauses the schedule (pauseOnFailure), because a failing job
// that touched data keeps its charge and must not repeat unattended; a run the budget cannot cover
// ends failed ('budget-exhausted', nothing charged) and pauses it too, until the data owner raises
// the grant and the analyst unpauses it.
import {
  Client,
  ScheduleAlreadyRunning,
  ScheduleNotFoundError,
  ScheduleOverlapPolicy,
  WorkflowNotFoundError,
  type ScheduleDescription,
  type ScheduleSummary,
} from '@temporalio/client';
import type { FineTuneInput, FineTuneResult, FineTuneSpec } from '../../contracts/fine-tune.ts';
import { signRequest } from '../../infra/access/index.ts';
import { RemoteCodec } from './remote-codec.ts';
import { FINE_TUNE_WORKFLOW, JobInputError, fineTuneWorkflowId, outcomeOf, validateFineTuneInput, type JobStatus } from './jobs/index.ts';

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
/** A whole number of seconds, minutes, hours, days or weeks (`30m`, `12h`, `1d`, `2w`). */
const EVERY = /^[1-9]\d*(s|m|h|d|w)$/;
const MEMO_KEY = 'veil';

/** What Veil records on its schedules (memo), to find them again and show their spec as typed. */
interface ScheduleMemo {
  kind: typeof FINE_TUNE_WORKFLOW;
  /** The schedule's name (absent on schedules created when the id was `finetune-<name>`). */
  name?: string;
  taskQueue: string;
  every: string | null;
  cron: string | null;
}

/** The schedule's id in Temporal: its name. */
export const scheduleIdOf = (name: string): string => name;
/** The id schedules had before (`finetune-<name>`): still found, paused, deleted by name. */
const legacyScheduleIdOf = (name: string): string => fineTuneWorkflowId(name);
/** The id its runs are named after (`<this>-<scheduled time>`) and its input is sealed for. */
export const scheduleRunsIdOf = (name: string): string => fineTuneWorkflowId(name);
const nameOf = (scheduleId: string, memo: ScheduleMemo | null): string => memo?.name ?? scheduleId.replace(/^finetune-/, '');

export interface FineTuneScheduleOptions {
  name: string;
  /** Interval between runs: `30m`, `12h`, `1d`, `1w`, … */
  every?: string;
  /** A cron expression (`0 3 * * *`); with `every`, runs happen at the times of both. */
  cron?: string;
  paused?: boolean;
  note?: string;
  /** The fine-tune every run starts (jobId must be unset: each run gets its own). */
  input: FineTuneInput;
  taskQueue: string;
  /**
   * The analyst's token: the schedule's input is signed once with it, and every run presents that
   * signature (a run is the same job again, charged to the same analyst's budget).
   */
  token: string;
}

/** Checks the options without connecting; JobInputError names what is wrong (name, every, cron, or an input field). */
export function validateScheduleOptions(options: Omit<FineTuneScheduleOptions, 'taskQueue' | 'token'>): FineTuneSpec {
  const issues = [];
  if (!NAME.test(options.name)) issues.push({ path: 'name', message: 'letters, digits, . _ -, at most 63 characters' });
  if (options.every === undefined && options.cron === undefined) issues.push({ path: 'every', message: 'give an interval (every) or a cron expression (cron)' });
  if (options.every !== undefined && !EVERY.test(options.every)) issues.push({ path: 'every', message: `"${options.every}" is not an interval like 30m, 12h, 1d or 1w` });
  if (options.input.jobId !== undefined) issues.push({ path: 'jobId', message: "a schedule's runs each get their own job id: leave it unset" });
  if (issues.length) throw new JobInputError(issues);
  return validateFineTuneInput(options.input);
}

/** A schedule's signed input is good for a year: re-create the schedule to renew it. */
const SCHEDULE_SIGNATURE_LIFETIME_MS = 365 * 24 * 3600 * 1000;
const UNIT_MS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/**
 * The interval each run of the signed input belongs to: the workers run the input once per
 * interval, whatever triggers the schedule. A cron schedule runs at most once an hour.
 */
function slotMs(options: FineTuneScheduleOptions): number {
  const m = options.every ? /^(\d+)([smhdw])$/.exec(options.every) : null;
  const every = m ? Number(m[1]) * UNIT_MS[m[2]] : Infinity;
  return Math.min(every, options.cron ? UNIT_MS.h : Infinity);
}

/**
 * The SDK encodes a schedule's action arguments without a workflow context; the runs read what was
 * sealed for the schedule's id, so a client that seals through the codec server seals for it.
 */
function clientSealingFor(client: Client, scheduleId: string): Client {
  const codecs = client.options.loadedDataConverter.payloadCodecs;
  if (!codecs.some((c) => c instanceof RemoteCodec)) return client;
  const bound = codecs.map((c) => (c instanceof RemoteCodec ? c.forWorkflow(scheduleId) : c));
  return new Client({ connection: client.connection, namespace: client.options.namespace, dataConverter: { payloadCodecs: bound } });
}

/** Creates the schedule (the server checks cron expressions: a bad one is a JobInputError too). */
export async function createFineTuneSchedule(client: Client, options: FineTuneScheduleOptions): Promise<FineTuneScheduleInfo> {
  const spec = validateScheduleOptions(options);
  const scheduleId = scheduleIdOf(options.name);
  const runsId = scheduleRunsIdOf(options.name);
  const memo: ScheduleMemo = { kind: FINE_TUNE_WORKFLOW, name: options.name, taskQueue: options.taskQueue, every: options.every ?? null, cron: options.cron ?? null };
  // One name, one schedule: a schedule of this name from before the ids changed counts too.
  if (await findScheduleId(client, options.name)) throw new JobInputError([{ path: 'name', message: `a schedule named "${options.name}" already exists` }]);
  try {
    await clientSealingFor(client, runsId).schedule.create({
      scheduleId,
      spec: {
        intervals: options.every ? [{ every: options.every as `${number}d` }] : undefined,
        cronExpressions: options.cron ? [options.cron] : undefined,
      },
      action: { type: 'startWorkflow', workflowType: FINE_TUNE_WORKFLOW, workflowId: runsId, taskQueue: options.taskQueue, args: [signRequest(options.token, FINE_TUNE_WORKFLOW, spec, { lifetimeMs: SCHEDULE_SIGNATURE_LIFETIME_MS, schedule: { id: scheduleId, everyMs: slotMs(options) } })] },
      // One run at a time: a run still training when the next is due makes that one skip.
      policies: { overlap: ScheduleOverlapPolicy.SKIP, pauseOnFailure: true },
      memo: { [MEMO_KEY]: memo },
      state: { paused: options.paused ?? false, note: options.note },
    });
  } catch (err) {
    if (err instanceof ScheduleAlreadyRunning) throw new JobInputError([{ path: 'name', message: `a schedule named "${options.name}" already exists` }]);
    // The server parses cron expressions; the SDK turns its "Invalid schedule spec" into a TypeError.
    if (err instanceof TypeError) throw new JobInputError([{ path: options.cron ? 'cron' : 'every', message: err.message }]);
    throw err;
  }
  return describeFineTuneSchedule(client, options.name);
}

export interface ScheduledRun {
  workflowId: string;
  scheduledAt: Date;
  startedAt: Date;
  status: JobStatus;
  /** The fine-tune's result status when the run completed (completed, budget-exhausted, cancelled). */
  resultStatus: FineTuneResult['status'] | null;
}

export interface FineTuneScheduleInfo {
  name: string;
  scheduleId: string;
  paused: boolean;
  note: string | null;
  every: string | null;
  cron: string | null;
  nextRuns: Date[];
  /** The most recent runs, oldest first. */
  recentRuns: ScheduledRun[];
  /** Recent runs that failed, were terminated or timed out (a failure pauses the schedule). */
  failedRuns: number;
}

async function runOf(client: Client, action: ScheduleSummary['info']['recentActions'][number]): Promise<ScheduledRun> {
  const { workflowId, firstExecutionRunId } = action.action.workflow;
  const handle = client.workflow.getHandle(workflowId, firstExecutionRunId);
  let status: JobStatus = 'unknown';
  let resultStatus: ScheduledRun['resultStatus'] = null;
  try {
    const d = await handle.describe();
    status = d.status.name.toLowerCase().replace(/_/g, '-') as JobStatus;
    // A budget-exhausted run ends failed, a settled cancellation cancelled: both keep their result.
    if (status === 'completed' || status === 'failed' || status === 'cancelled') {
      const outcome = await outcomeOf<FineTuneResult>(client, workflowId);
      resultStatus = outcome.status === 'completed' ? outcome.result.status : (outcome.result?.status ?? null);
    }
  } catch (err) {
    // A run older than the namespace's retention is gone from Temporal: status unknown.
    if (!(err instanceof WorkflowNotFoundError)) throw err;
  }
  return { workflowId, scheduledAt: action.scheduledAt, startedAt: action.takenAt, status, resultStatus };
}

function memoOf(memo: Record<string, unknown> | undefined): ScheduleMemo | null {
  const m = memo?.[MEMO_KEY] as Partial<ScheduleMemo> | undefined;
  return m?.kind === FINE_TUNE_WORKFLOW && typeof m.taskQueue === 'string' ? (m as ScheduleMemo) : null;
}

const FAILED: JobStatus[] = ['failed', 'terminated', 'timed-out'];

async function infoOf(client: Client, s: ScheduleSummary | ScheduleDescription, memo: ScheduleMemo): Promise<FineTuneScheduleInfo> {
  const recentRuns = await Promise.all(s.info.recentActions.map((a) => runOf(client, a)));
  return {
    name: nameOf(s.scheduleId, memo),
    scheduleId: s.scheduleId,
    paused: s.state.paused,
    note: s.state.note || null,
    every: memo.every,
    cron: memo.cron,
    nextRuns: s.info.nextActionTimes,
    recentRuns,
    failedRuns: recentRuns.filter((r) => FAILED.includes(r.status)).length,
  };
}

/** Veil's fine-tune schedules on `taskQueue`. */
export async function listFineTuneSchedules(client: Client, options: { taskQueue: string }): Promise<FineTuneScheduleInfo[]> {
  const out: FineTuneScheduleInfo[] = [];
  for await (const s of client.schedule.list()) {
    const memo = memoOf(s.memo);
    if (memo?.taskQueue === options.taskQueue && s.action?.workflowType === FINE_TUNE_WORKFLOW) out.push(await infoOf(client, s, memo));
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

/** The schedule named `name`: its id and description, or undefined (by its id, then the legacy id). */
async function findScheduleId(client: Client, name: string): Promise<{ id: string; description: ScheduleDescription } | undefined> {
  for (const id of [scheduleIdOf(name), legacyScheduleIdOf(name)]) {
    try {
      const description = await client.schedule.getHandle(id).describe();
      // Only Veil's fine-tune schedules answer to a name.
      if (description.action.type === 'startWorkflow' && description.action.workflowType === FINE_TUNE_WORKFLOW) return { id, description };
    } catch (err) {
      if (!(err instanceof ScheduleNotFoundError)) throw err;
    }
  }
  return undefined;
}

async function describeRaw(client: Client, name: string): Promise<ScheduleDescription & { scheduleId: string }> {
  const found = await findScheduleId(client, name);
  if (!found) throw new ScheduleMissingError(`no schedule named "${name}"`);
  return found.description;
}

/** The handle of the schedule named `name` (ScheduleMissingError if none). */
async function handleOf(client: Client, name: string) {
  return client.schedule.getHandle((await describeRaw(client, name)).scheduleId);
}

export class ScheduleMissingError extends Error {
  override name = 'ScheduleMissingError';
  readonly exitCode = 2;
}

export async function describeFineTuneSchedule(client: Client, name: string): Promise<FineTuneScheduleInfo> {
  const d = await describeRaw(client, name);
  const memo = memoOf(d.memo) ?? { kind: FINE_TUNE_WORKFLOW, taskQueue: d.action.taskQueue, every: null, cron: null };
  return infoOf(client, d, memo);
}

export async function pauseSchedule(client: Client, name: string, note?: string): Promise<void> {
  await (await handleOf(client, name)).pause(note ?? 'paused from veil');
}

export async function unpauseSchedule(client: Client, name: string, note?: string): Promise<void> {
  await (await handleOf(client, name)).unpause(note ?? 'unpaused from veil');
}

/** Deletes the schedule; runs it already started go on. */
export async function deleteSchedule(client: Client, name: string): Promise<void> {
  await (await handleOf(client, name)).delete();
}

/**
 * Starts a run now (even when paused, even while another run trains: the analyst asked for it)
 * and returns its workflow id once the schedule reports it (within `timeoutMs`, else null).
 */
export async function triggerSchedule(client: Client, name: string, options: { timeoutMs?: number } = {}): Promise<{ workflowId: string | null }> {
  const before = new Set((await describeRaw(client, name)).info.recentActions.map((a) => a.action.workflow.workflowId));
  await (await handleOf(client, name)).trigger(ScheduleOverlapPolicy.ALLOW_ALL);
  const deadline = Date.now() + (options.timeoutMs ?? 10_000);
  while (Date.now() < deadline) {
    const fresh = (await describeRaw(client, name)).info.recentActions.find((a) => !before.has(a.action.workflow.workflowId));
    if (fresh) return { workflowId: fresh.action.workflow.workflowId };
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return { workflowId: null };
}
