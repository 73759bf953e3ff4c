// Fine-tune and sample jobs: start, watch, list, show and cancel them. A job is one Temporal
// workflow (`finetune-<jobId>` or `sample-<id>`); everything here reads Temporal's own records
// (describe, visibility, history), so the TypeScript SDK, the CLI and the Temporal UI always agree.
// Inputs are validated here with the workflows' own zod schemas, so a mistake is named before
// anything starts. Nothing here ever reads or prints dataset rows: inputs never carry any.
import { randomBytes } from 'node:crypto';
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowFailedError,
  WorkflowNotFoundError,
  type Client,
  type WorkflowExecutionDescription,
} from '@temporalio/client';
import {
  ApplicationFailure,
  CancelledFailure,
  defineSearchAttributeKey,
  SearchAttributeType,
  TerminatedFailure,
  TimeoutFailure,
  WorkflowIdReusePolicy,
  type Payload,
  type TypedSearchAttributes,
} from '@temporalio/common';
import type { z } from 'zod';
import type { TrainProgress } from '../../activities/training/train.ts';
import { signRequest } from '../../infra/access/index.ts';
import { fineTuneSchema, type FineTuneInput, type FineTuneResult, type FineTuneSpec } from '../../workflows/fineTune/spec.ts';
import { sampleSchema, type SampleInput, type SampleResult, type SampleSpec } from '../../workflows/sample/spec.ts';

export type { TrainProgress };
export const FINE_TUNE_WORKFLOW = 'fineTune';
export const SAMPLE_WORKFLOW = 'sample';
export type JobKind = typeof FINE_TUNE_WORKFLOW | typeof SAMPLE_WORKFLOW;
const PREFIX: Record<JobKind, string> = { fineTune: 'finetune-', sample: 'sample-' };

/** A short random job id (8 hex digits): enough to be unique among one team's jobs, short to type. */
export function newJobId(): string {
  return randomBytes(4).toString('hex');
}
export const fineTuneWorkflowId = (jobId: string): string => `${PREFIX.fineTune}${jobId}`;
export const sampleWorkflowId = (id: string): string => `${PREFIX.sample}${id}`;

/** One problem with a job's input: `path` is the input field (`training.batchSize`). */
export interface InputIssue {
  path: string;
  message: string;
}

/** The input was refused before anything started (exit code 2 in the CLI). */
export class JobInputError extends Error {
  override name = 'JobInputError';
  readonly exitCode = 2;
  constructor(readonly issues: InputIssue[]) {
    super(issues.map((i) => `${i.path || '(input)'}: ${i.message}`).join('; '));
  }
}

export class JobNotFoundError extends Error {
  override name = 'JobNotFoundError';
  readonly exitCode = 2;
}

function validate<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  throw new JobInputError(parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })));
}

/** The fineTune input with its defaults filled in; JobInputError lists every problem. */
export const validateFineTuneInput = (input: unknown): FineTuneSpec => validate(fineTuneSchema, input);
export const validateSampleInput = (input: unknown): SampleSpec => validate(sampleSchema, input);

export interface StartOptions {
  /** The light task queue (`veil` in production). */
  taskQueue: string;
  /** The analyst's access token: the request is signed with it (the token itself is never sent). */
  token: string;
}

export interface StartedJob {
  kind: JobKind;
  /** The fine-tune's job id (its model id when it completes) or the sample's id. */
  jobId: string;
  workflowId: string;
}

async function start(client: Client, kind: JobKind, jobId: string, args: unknown, taskQueue: string): Promise<StartedJob> {
  const workflowId = `${PREFIX[kind]}${jobId}`;
  try {
    // A job id names one job for good: it keys the privacy charge, the checkpoints and the model.
    await client.workflow.start(kind, { taskQueue, workflowId, args: [args], workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE });
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) throw new JobInputError([{ path: 'jobId', message: `a job with id "${jobId}" already exists (${workflowId})` }]);
    throw err;
  }
  return { kind, jobId, workflowId };
}

/**
 * Starts a fine-tune as workflow `finetune-<jobId>` and returns at once. The job id is
 * `input.jobId`, else a new random one. The validated input (defaults filled in) is what the
 * workflow receives, so its history and the UI show the complete configuration.
 */
export async function startFineTune(client: Client, input: FineTuneInput, options: StartOptions): Promise<StartedJob> {
  const jobId = input.jobId ?? newJobId();
  const spec = validateFineTuneInput({ ...input, jobId });
  return start(client, FINE_TUNE_WORKFLOW, jobId, signRequest(options.token, FINE_TUNE_WORKFLOW, spec), options.taskQueue);
}

/** Starts a sample job as workflow `sample-<id>` (id: `options.sampleId` or a new random one). */
export async function startSample(client: Client, input: SampleInput, options: StartOptions & { sampleId?: string }): Promise<StartedJob> {
  const spec = validateSampleInput(input);
  return start(client, SAMPLE_WORKFLOW, options.sampleId ?? newJobId(), signRequest(options.token, SAMPLE_WORKFLOW, spec), options.taskQueue);
}

// ---- reading a job's state ----------------------------------------------------------------

type RawPayload = Payload | { metadata?: Record<string, Uint8Array> | null; data?: Uint8Array | null };

/** Decodes payloads the way the client's data converter would (codecs, then the converter). */
async function decodePayloads(client: Client, payloads: RawPayload[] | null | undefined): Promise<unknown[]> {
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
}

export type JobStatus = 'running' | 'completed' | 'failed' | 'cancelled' | 'terminated' | 'timed-out' | 'continued-as-new' | 'unknown';
function statusOf(name: string): JobStatus {
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

/** How a job ended: its result, or why there is none. */
export type JobOutcome<R> =
  | { status: 'completed'; result: R }
  | { status: Exclude<JobStatus, 'completed' | 'running'>; message: string; failureType?: string };

async function outcomeOf<R>(client: Client, workflowId: string): Promise<JobOutcome<R>> {
  try {
    return { status: 'completed', result: (await client.workflow.getHandle(workflowId).result()) as R };
  } catch (err) {
    if (!(err instanceof WorkflowFailedError)) throw err;
    const { status } = await client.workflow.getHandle(workflowId).describe();
    let inner: unknown = err.cause;
    while (inner instanceof Error && !(inner instanceof ApplicationFailure) && inner.cause instanceof Error) inner = inner.cause;
    const failureType = inner instanceof ApplicationFailure ? (inner.type ?? undefined) : undefined;
    const s = statusOf(status.name);
    return { status: s === 'completed' || s === 'running' ? 'failed' : s, message: failureMessage(err), failureType };
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

/** Starts a sample job and waits for its samples (or the refusal). */
export async function runSample(client: Client, input: SampleInput, options: StartOptions & { sampleId?: string }): Promise<{ job: StartedJob; outcome: JobOutcome<SampleResult> }> {
  const job = await startSample(client, input, options);
  return { job, outcome: await outcomeOf<SampleResult>(client, job.workflowId) };
}

// ---- listing and showing -------------------------------------------------------------------

export interface JobSummary {
  kind: JobKind;
  workflowId: string;
  status: JobStatus;
  startTime: Date;
  closeTime: Date | null;
  /** The schedule that started it, if any. */
  scheduleId: string | null;
  /** Running jobs: what they are doing (a fine-tune's training progress). */
  activity: JobActivity | null;
  /** Completed jobs: a fine-tune's result status (completed, budget-exhausted, cancelled). */
  resultStatus: FineTuneResult['status'] | null;
}

/** Temporal marks the workflows a Schedule starts with the schedule's id. */
const SCHEDULED_BY = defineSearchAttributeKey('TemporalScheduledById', SearchAttributeType.KEYWORD);
const scheduleOf = (attributes: TypedSearchAttributes | undefined): string | null => attributes?.get(SCHEDULED_BY) ?? null;

function quote(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** Fine-tune and sample jobs on `taskQueue`, newest first, from Temporal's visibility store. */
export async function listJobs(client: Client, options: { taskQueue: string; limit?: number; kinds?: JobKind[] }): Promise<JobSummary[]> {
  const kinds = options.kinds ?? [FINE_TUNE_WORKFLOW, SAMPLE_WORKFLOW];
  const query = `(${kinds.map((k) => `WorkflowType = ${quote(k)}`).join(' OR ')}) AND TaskQueue = ${quote(options.taskQueue)}`;
  const limit = options.limit ?? 20;
  const infos = [];
  for await (const info of client.workflow.list({ query, pageSize: Math.min(limit, 100) })) {
    infos.push(info);
    if (infos.length >= limit) break;
  }
  return Promise.all(
    infos.map(async (info): Promise<JobSummary> => {
      const status = statusOf(info.status.name);
      const handle = client.workflow.getHandle(info.workflowId, info.runId);
      const activity = status === 'running' && info.type === FINE_TUNE_WORKFLOW ? await currentActivity(client, await handle.describe()) : null;
      const resultStatus = status === 'completed' && info.type === FINE_TUNE_WORKFLOW ? ((await handle.result()) as FineTuneResult).status : null;
      return {
        kind: info.type as JobKind,
        workflowId: info.workflowId,
        status,
        startTime: info.startTime,
        closeTime: info.closeTime ?? null,
        scheduleId: scheduleOf(info.typedSearchAttributes),
        activity,
        resultStatus,
      };
    }),
  );
}

/** Finds a job by workflow id or job id (`abc123` finds `finetune-abc123` or `sample-abc123`). */
export async function resolveJob(client: Client, id: string): Promise<{ workflowId: string; kind: JobKind; description: WorkflowExecutionDescription }> {
  const candidates = [...new Set([id, fineTuneWorkflowId(id), sampleWorkflowId(id)])];
  for (const workflowId of candidates) {
    try {
      const description = await client.workflow.getHandle(workflowId).describe();
      if (description.type === FINE_TUNE_WORKFLOW || description.type === SAMPLE_WORKFLOW) return { workflowId, kind: description.type, description };
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError)) throw err;
    }
  }
  throw new JobNotFoundError(`no fine-tune or sample job "${id}" (tried ${candidates.join(', ')})`);
}

/** The job's input as configuration only: names, numbers and ids, never any data. */
export type InputSummary = Record<string, unknown>;

function summarizeInput(kind: JobKind, raw: unknown): InputSummary {
  if (kind === FINE_TUNE_WORKFLOW) {
    const parsed = fineTuneSchema.safeParse(raw);
    if (!parsed.success) return { invalid: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`) };
    const s = parsed.data;
    return {
      jobId: s.jobId ?? null,
      analyst: s.analyst,
      dataset: s.dataset.version ? `${s.dataset.name}@${s.dataset.version}` : s.dataset.name,
      // Analysts' functions by name and digest: their source is in the history for the UI.
      preprocessing: s.preprocessing.map((p) => (p.kind === 'rename' ? { ...p } : { kind: p.kind, column: p.column, fn: p.fn.name, sha256: p.fn.sha256 })),
      textColumn: s.textColumn,
      split: { ...s.split },
      model: { ...s.model },
      training: { ...s.training },
      trainHeartbeatTimeoutSeconds: s.trainHeartbeatTimeoutSeconds,
    };
  }
  const parsed = sampleSchema.safeParse(raw);
  if (!parsed.success) return { invalid: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`) };
  const s = parsed.data;
  return {
    analyst: s.analyst,
    modelId: s.modelId,
    prompts: s.prompts.length,
    unconditional: s.unconditional,
    maxEpsilon: s.maxEpsilon,
    temperature: s.temperature,
    topK: s.topK,
    topP: s.topP,
    maxNewTokens: s.maxNewTokens,
    seed: s.seed ?? null,
  };
}

/** The workflow's input, from the first event of its history (one small read). */
async function startInput(client: Client, workflowId: string, runId: string): Promise<unknown> {
  const response = await client.workflowService.getWorkflowExecutionHistory({
    namespace: client.options.namespace,
    execution: { workflowId, runId },
    maximumPageSize: 1,
  });
  const first = response.history?.events?.[0]?.workflowExecutionStartedEventAttributes;
  const [input] = await decodePayloads(client, first?.input?.payloads);
  return input;
}

export interface JobDetails extends Omit<JobSummary, 'resultStatus'> {
  input: InputSummary;
  outcome: JobOutcome<FineTuneResult | SampleResult> | null;
}

export async function showJob(client: Client, id: string): Promise<JobDetails> {
  const { workflowId, kind, description: d } = await resolveJob(client, id);
  const status = statusOf(d.status.name);
  return {
    kind,
    workflowId,
    status,
    startTime: d.startTime,
    closeTime: d.closeTime ?? null,
    scheduleId: scheduleOf(d.typedSearchAttributes),
    activity: status === 'running' ? await currentActivity(client, d) : null,
    input: summarizeInput(kind, await startInput(client, workflowId, d.runId)),
    outcome: status === 'running' ? null : await outcomeOf(client, workflowId),
  };
}

/**
 * Requests cancellation. A fine-tune stops training within one step, keeps its checkpoint and
 * charges the ε it spent; with `wait`, resolves with how the job ended.
 */
export async function cancelJob(client: Client, id: string, options: { wait?: boolean } = {}): Promise<{ workflowId: string; kind: JobKind; wasRunning: boolean; outcome: JobOutcome<FineTuneResult | SampleResult> | null }> {
  const { workflowId, kind, description } = await resolveJob(client, id);
  const wasRunning = statusOf(description.status.name) === 'running';
  if (wasRunning) await client.workflow.getHandle(workflowId).cancel();
  const outcome = options.wait || !wasRunning ? await outcomeOf<FineTuneResult | SampleResult>(client, workflowId) : null;
  return { workflowId, kind, wasRunning, outcome };
}
