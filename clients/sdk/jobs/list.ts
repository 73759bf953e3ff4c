// Listing, showing and cancelling jobs, from Temporal's visibility store and histories. Nothing
// here reads or prints dataset rows: job inputs never carry any.
import { WorkflowNotFoundError, type Client, type WorkflowExecutionDescription } from '@temporalio/client';
import { defineSearchAttributeKey, SearchAttributeType, type TypedSearchAttributes } from '@temporalio/common';
import { FINE_TUNE_WORKFLOW, fineTuneSchema, type FineTuneResult } from '../../../contracts/fine-tune.ts';
import { SAMPLE_WORKFLOW, sampleSchema, type SampleResult } from '../../../contracts/sample.ts';
import { NotYourJobError } from '../remote-codec.ts';
import { fineTuneWorkflowId, JobNotFoundError, sampleWorkflowId, type JobKind } from './start.ts';
import { currentActivity, decodePayloads, outcomeOf, statusOf, type JobActivity, type JobOutcome, type JobStatus } from './state.ts';
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
  /** Closed fine-tunes: the result's status (completed, budget-exhausted, cancelled), when it has one. */
  resultStatus: FineTuneResult['status'] | null;
}

/** Temporal marks the workflows a Schedule starts with the schedule's id. */
const SCHEDULED_BY = defineSearchAttributeKey('TemporalScheduledById', SearchAttributeType.KEYWORD);
const scheduleOf = (attributes: TypedSearchAttributes | undefined): string | null => attributes?.get(SCHEDULED_BY) ?? null;

/**
 * A closed fine-tune's result status. Reading the result or the failure goes through the codec,
 * which opens it for its readers only (NotYourJobError otherwise): the list leaves others' out.
 */
async function closedResultStatus(client: Client, workflowId: string, status: JobStatus): Promise<FineTuneResult['status'] | null> {
  if (status === 'completed') return ((await client.workflow.getHandle(workflowId).result()) as FineTuneResult).status;
  if (status !== 'failed' && status !== 'cancelled') return null;
  const outcome = await outcomeOf<FineTuneResult>(client, workflowId);
  return outcome.status === 'completed' ? outcome.result.status : (outcome.result?.status ?? null);
}

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
  const summaries = await Promise.all(
    infos.map(async (info): Promise<JobSummary | null> => {
      const status = statusOf(info.status.name);
      const handle = client.workflow.getHandle(info.workflowId, info.runId);
      let activity: JobActivity | null;
      let resultStatus: FineTuneResult['status'] | null;
      try {
        activity = status === 'running' && info.type === FINE_TUNE_WORKFLOW ? await currentActivity(client, await handle.describe()) : null;
        resultStatus = info.type === FINE_TUNE_WORKFLOW ? await closedResultStatus(client, info.workflowId, status) : null;
      } catch (err) {
        // Another principal's job: the codec server keeps it sealed, and the list leaves it out.
        if (err instanceof NotYourJobError) return null;
        throw err;
      }
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
  return summaries.filter((s): s is JobSummary => s !== null);
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
