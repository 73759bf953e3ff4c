// A job's state as Temporal records it (describe, history): its current activity and the train
// activity's heartbeat, how it ended, and a watch loop that follows it until it closes.
import { WorkflowFailedError, type Client, type WorkflowExecutionDescription } from '@temporalio/client';
import { ApplicationFailure, CancelledFailure, TerminatedFailure, TimeoutFailure, type Payload } from '@temporalio/common';
import { Failure } from '../../../contracts/failures.ts';
import { FINE_TUNE_WORKFLOW, type FineTuneResult, type TrainProgress } from '../../../contracts/fine-tune.ts';
import { jobResultQuery } from '../../../workflows/fine-tune/search-attributes.ts';
import { NotYourJobError } from '../remote-codec.ts';

export type { TrainProgress };
type RawPayload = Payload | { metadata?: Record<string, Uint8Array> | null; data?: Uint8Array | null };

/** Decodes payloads the way the client's data converter would (codecs, then the converter). */
export async function decodePayloads(client: Client, payloads: RawPayload[] | null | undefined): Promise<unknown[]> {
  if (!payloads?.length) return [];
  const { payloadConverter, payloadCodecs } = client.options.loadedDataConverter;
  let decoded = payloads as Payload[];
  for (const codec of [...payloadCodecs].reverse()) decoded = await codec.decode(decoded);
  return decoded.map((p) => payloadConverter.fromPayload(p));
}

function isTrainProgress(value: unknown): value is TrainProgress {
  const v = value as Partial<TrainProgress> | null;
  return typeof v === 'object' && v !== null && typeof v.step === 'number' && typeof v.totalSteps === 'number';
}

type ProtoTime = { seconds?: { toString(): string } | number | null; nanos?: number | null } | null | undefined;
function dateOf(ts: ProtoTime): Date | null {
  if (!ts || ts.seconds == null) return null;
  return new Date(Number(ts.seconds.toString()) * 1000 + (ts.nanos ?? 0) / 1e6);
}

/** What a running job is doing now, from its pending activity. */
export interface JobActivity {
  /** The activity running (`train`, `prepareTrainingData`, `generateSamples`, …). */
  activity: string;
  attempt: number;
  /** The train activity's last heartbeat (step, loss, ε, last checkpoint); null before the first. */
  progress: TrainProgress | null;
  lastHeartbeatAt: Date | null;
  /** Why the previous attempt failed, when this one is a retry. */
  lastFailure: string | null;
  /** Scheduled but not yet picked up: every worker slot of its queue is busy (or none runs). */
  queued: boolean;
}

export type JobStatus = 'running' | 'completed' | 'failed' | 'cancelled' | 'terminated' | 'timed-out' | 'continued-as-new' | 'unknown';
export function statusOf(name: string): JobStatus {
  const s = name.toLowerCase().replace(/_/g, '-');
  return (['running', 'completed', 'failed', 'cancelled', 'terminated', 'timed-out', 'continued-as-new'] as const).find((x) => x === s) ?? 'unknown';
}

/** The current activity of a described workflow (the train activity first, when it runs). */
export async function currentActivity(client: Client, d: WorkflowExecutionDescription): Promise<JobActivity | null> {
  const pending = d.raw.pendingActivities ?? [];
  const a = pending.find((p) => p.activityType?.name === 'train') ?? pending[0];
  if (!a) return null;
  const [details] = await decodePayloads(client, a.heartbeatDetails?.payloads);
  return {
    activity: a.activityType?.name ?? 'unknown',
    attempt: a.attempt ?? 1,
    progress: isTrainProgress(details) ? details : null,
    lastHeartbeatAt: dateOf(a.lastHeartbeatTime),
    lastFailure: a.lastFailure?.message ?? null,
    // PENDING_ACTIVITY_STATE_SCHEDULED (1): in the task queue, no worker has started it.
    queued: Number(a.state) === 1,
  };
}

/** The most useful message of a workflow's failure: the innermost application error. */
export function failureMessage(err: unknown): string {
  if (err instanceof WorkflowFailedError) {
    let cause: unknown = err.cause;
    let message = err.message;
    while (cause instanceof Error) {
      if (cause instanceof CancelledFailure) return 'cancelled';
      if (cause instanceof TerminatedFailure) return `terminated${cause.message ? `: ${cause.message}` : ''}`;
      if (cause instanceof TimeoutFailure) return 'timed out';
      if (cause instanceof ApplicationFailure || !(cause.cause instanceof Error)) message = cause.message;
      cause = cause.cause;
    }
    return message;
  }
  return err instanceof Error ? err.message : String(err);
}

/**
 * How a job ended: its result, or why there is none. A fine-tune that was cancelled after it
 * settled, or refused for want of budget, ends cancelled or failed in Temporal and still has its
 * result (what it spent, the message): `result` then.
 */
export type JobOutcome<R> =
  | { status: 'completed'; result: R }
  | { status: Exclude<JobStatus, 'completed' | 'running'>; message: string; failureType?: string; result?: R };

const isFineTuneResult = (value: unknown): value is FineTuneResult =>
  typeof value === 'object' && value !== null && typeof (value as FineTuneResult).jobId === 'string' && typeof (value as FineTuneResult).status === 'string';

/** How long to wait for a worker to answer the jobResult query of a closed fine-tune. */
const RESULT_QUERY_MS = 15_000;

/** A closed fine-tune's kept result, from its jobResult query (null for runs older than the query). */
async function queriedResult(client: Client, workflowId: string): Promise<FineTuneResult | undefined> {
  try {
    const result = await client.withDeadline(Date.now() + RESULT_QUERY_MS, () => client.workflow.getHandle(workflowId).query(jobResultQuery));
    return result ?? undefined;
  } catch (err) {
    // An older run without the query, or no worker to answer: the failure's message still says why.
    if (err instanceof NotYourJobError) throw err;
    return undefined;
  }
}

export async function outcomeOf<R>(client: Client, workflowId: string): Promise<JobOutcome<R>> {
  try {
    return { status: 'completed', result: (await client.workflow.getHandle(workflowId).result()) as R };
  } catch (err) {
    if (!(err instanceof WorkflowFailedError)) throw err;
    const { status, type } = await client.workflow.getHandle(workflowId).describe();
    let inner: unknown = err.cause;
    while (inner instanceof Error && !(inner instanceof ApplicationFailure) && inner.cause instanceof Error) inner = inner.cause;
    const failureType = inner instanceof ApplicationFailure ? (inner.type ?? undefined) : undefined;
    const s = statusOf(status.name);
    const outcome: JobOutcome<R> = { status: s === 'completed' || s === 'running' ? 'failed' : s, message: failureMessage(err), ...(failureType === undefined ? {} : { failureType }) };
    if (type !== FINE_TUNE_WORKFLOW) return outcome;
    // A budget refusal carries its result; a settled cancellation keeps it for the query.
    const detail = failureType === Failure.BudgetExhausted && inner instanceof ApplicationFailure ? inner.details?.[0] : undefined;
    const result = isFineTuneResult(detail) ? detail : s === 'cancelled' ? await queriedResult(client, workflowId) : undefined;
    if (result === undefined) return outcome;
    return { ...outcome, message: result.message, result: result as R };
  }
}

export interface WatchOptions {
  /** Called after every poll while the job runs (and once more at the end). */
  onUpdate?: (state: { status: JobStatus; activity: JobActivity | null; historyLength: number }) => void;
  /** Poll interval (default 1 s). */
  intervalMs?: number;
  signal?: AbortSignal;
}

/**
 * Follows a job until it closes: polls `describe()` for its pending activity and the train
 * activity's heartbeat, then returns how it ended. Aborting `signal` stops watching (the job runs on).
 */
export async function watchJob<R>(client: Client, workflowId: string, options: WatchOptions = {}): Promise<JobOutcome<R>> {
  const handle = client.workflow.getHandle(workflowId);
  const interval = options.intervalMs ?? 1000;
  const closed = handle.result().then(
    () => true,
    () => true,
  );
  for (;;) {
    if (options.signal?.aborted) throw options.signal.reason ?? new Error('watch aborted');
    const d = await handle.describe();
    const status = statusOf(d.status.name);
    options.onUpdate?.({ status, activity: status === 'running' ? await currentActivity(client, d) : null, historyLength: d.historyLength });
    if (status !== 'running') break;
    const done = await Promise.race([closed, new Promise<false>((resolve) => setTimeout(() => resolve(false), interval))]);
    if (done) break;
  }
  return outcomeOf<R>(client, workflowId);
}

export function watchFineTune(client: Client, workflowId: string, options?: WatchOptions): Promise<JobOutcome<FineTuneResult>> {
  return watchJob<FineTuneResult>(client, workflowId, options);
}

