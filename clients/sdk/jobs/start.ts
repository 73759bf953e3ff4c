// Starting jobs: a fine-tune is workflow `finetune-<jobId>`, a sample job `sample-<id>`. Inputs
// are validated here with the workflows' own zod schemas (contracts/), so a mistake is named
// before anything starts, and signed with the analyst's token (the token itself is never sent).
import { randomBytes } from 'node:crypto';
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { WorkflowIdReusePolicy } from '@temporalio/common';
import type { z } from 'zod';
import { FINE_TUNE_WORKFLOW, fineTuneSchema, type FineTuneInput, type FineTuneSpec } from '../../../contracts/fine-tune.ts';
import { SAMPLE_WORKFLOW, sampleSchema, type SampleInput, type SampleResult, type SampleSpec } from '../../../contracts/sample.ts';
import { signRequest } from '../../../infra/access/index.ts';
import { outcomeOf, type JobOutcome } from './state.ts';

export { FINE_TUNE_WORKFLOW, SAMPLE_WORKFLOW };
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

/** Starts a sample job and waits for its samples (or the refusal). */
export async function runSample(client: Client, input: SampleInput, options: StartOptions & { sampleId?: string }): Promise<{ job: StartedJob; outcome: JobOutcome<SampleResult> }> {
  const job = await startSample(client, input, options);
  return { job, outcome: await outcomeOf<SampleResult>(client, job.workflowId) };
}

