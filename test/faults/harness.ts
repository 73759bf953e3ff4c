// Shared pieces of the pipeline fault tests: the dataset and spec (as in test/pipeline), and the
// probes a test uses to decide when to strike (committed checkpoints in S3, the train activity's
// last heartbeat) and to judge the outcome (weights' sha256, the ledger's reservation).
import { createHash } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Client, WorkflowHandle } from '@temporalio/client';
import type { Payload } from '@temporalio/common';
import { tsToMs } from '@temporalio/common/lib/time.js';
import proto from '@temporalio/proto'; // CommonJS: no named exports under ESM
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { TrainProgress } from '../../contracts/fine-tune.ts';
import { shardFileName } from '../../engine/train/checkpoint-shards.ts';
import { checkpointsRoot, runKeyKey } from '../../infra/storage/index.ts';
import { generatePatientNotes } from '../../clients/demo/patient-notes.ts';
import { addDataset } from '../../clients/sdk/datasets.ts';
import { checkpointPrefix, modelPrefix, type ArtifactStore } from '../../infra/storage/index.ts';
import type { FineTuneInput } from '../../contracts/fine-tune.ts';
import { withWorker } from '../helpers/temporal.ts';
import { newOwner, type TestPrincipal } from '../helpers/principals.ts';

/** Generates the 80 demo notes and ingests them as a dataset of a new owner (in-process workers, light queue only); returns the owner. */
export async function addNotesDataset(env: TestWorkflowEnvironment, store: ArtifactStore, name: string): Promise<TestPrincipal> {
  const owner = await newOwner('faults-owner');
  const dir = await mkdtemp(join(tmpdir(), 'veil-faults-'));
  const file = join(dir, 'notes.jsonl');
  await writeFile(file, generatePatientNotes({ rows: 80, secretCopies: 2, seed: 'faults' }).map((r) => JSON.stringify(r)).join('\n') + '\n');
  await withWorker(async ({ client, taskQueue }) => addDataset(client, taskQueue, name, file, { token: owner.token }), { env, gpu: false });
  return owner;
}

/** Steps between the checkpoints of faultSpec's runs. */
export const FAULT_CHECKPOINT_EVERY = 3;

/**
 * A DP fine-tune of the tiny GPT-2 long enough to strike in the middle: 72 training rows,
 * batches of 12 → 12 steps, a checkpoint every 3. The train activity's heartbeat timeout is short so that a
 * killed worker costs seconds, not the production default of 30 s.
 */
export function faultSpec(dataset: string, analyst: string, jobId: string, training: Partial<FineTuneInput['training']> = {}): FineTuneInput {
  return {
    jobId,
    analyst,
    dataset: { name: dataset },
    textColumn: 'note',
    split: { kind: 'ratio', testFraction: 0.1 },
    model: { base: 'tiny', seed: 'faults', maxSeqLen: 24 },
    training: { targetEpsilon: 8, delta: 1e-5, batchSize: 12, epochs: 2, maxGradNorm: 1, lr: 1e-3, checkpointEvery: FAULT_CHECKPOINT_EVERY, ...training },
    trainHeartbeatTimeoutSeconds: 6,
  };
}

/**
 * Polls `probe` until it returns something other than undefined/false; fails after `timeoutMs`.
 * A probe that throws counts as "not yet": these tests take servers away on purpose.
 */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs: number, everyMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}${lastError ? ` (last error: ${String(lastError)})` : ''}`);
    await sleep(everyMs);
  }
}

/** The steps of a run's committed checkpoints (those with a manifest), ascending. */
export async function committedCheckpointSteps(store: ArtifactStore, jobId: string): Promise<number[]> {
  const steps: number[] = [];
  for (const name of await store.listPrefixes(checkpointsRoot(jobId))) {
    const step = Number(/^step-(\d+)$/.exec(name)?.[1] ?? NaN);
    if (Number.isInteger(step) && (await store.tryReadManifest(checkpointPrefix(jobId, step)))) steps.push(step);
  }
  return steps.sort((a, b) => a - b);
}

/** Waits until a checkpoint at `minStep` or later is committed; returns the highest committed step. */
export async function checkpointAtLeast(store: ArtifactStore, jobId: string, minStep: number, timeoutMs = 90_000): Promise<number> {
  return waitFor(`a checkpoint of ${jobId} at step ≥ ${minStep}`, async () => {
    const steps = await committedCheckpointSteps(store, jobId);
    const last = steps.at(-1);
    return last !== undefined && last >= minStep ? last : undefined;
  }, timeoutMs, 100);
}

/**
 * The fault tests' checkpoint shard size (VEIL_CHECKPOINT_SHARD_BYTES): the tiny model's ~40 MB
 * AdamW checkpoint in 4 shards, each above the 8 MiB part size, so each is a multipart upload a
 * kill can interrupt.
 */
export const FAULT_SHARD_BYTES = 12 * 1024 * 1024;

/** The S3 key of a checkpoint's first shard (written in parts: a kill can leave it unfinished). */
export function checkpointKey(jobId: string, step: number): string {
  return `${checkpointPrefix(jobId, step)}/${shardFileName(0)}`;
}

/** The S3 keys of a committed checkpoint's shards. */
export async function checkpointShardKeys(store: ArtifactStore, jobId: string, step: number): Promise<string[]> {
  const manifest = await store.readManifest(checkpointPrefix(jobId, step));
  return Object.keys(manifest.entries).filter((path) => path.endsWith('.safetensors')).map((path) => `${manifest.prefix}/${path}`);
}

/** How many multipart uploads of `key` were started and neither completed nor aborted. */
export async function unfinishedUploads(store: ArtifactStore, key: string): Promise<number> {
  let n = 0;
  // MinIO lists unfinished uploads by exact key only.
  for await (const _upload of store.client.listIncompleteUploads(store.bucket, key, true)) n++;
  return n;
}

/** Reads and re-verifies (sha256 and size of every object) each committed checkpoint of a run. */
export async function verifyCheckpoints(store: ArtifactStore, jobId: string): Promise<number[]> {
  const steps = await committedCheckpointSteps(store, jobId);
  for (const step of steps) await store.verifyManifest(await store.readManifest(checkpointPrefix(jobId, step)));
  return steps;
}

export interface TrainActivityState {
  attempt: number;
  /** A worker runs this attempt now (not merely scheduled, waiting for a retry or a worker). */
  started: boolean;
  /** The worker that ran the latest started attempt: "<pid>@<host>". */
  workerIdentity?: string;
  /** The last heartbeat the server received (the worker throttles them: it may lag by seconds). */
  progress?: TrainProgress;
  lastFailure?: string;
}

/** The train activity as the server sees it now, if it is pending. */
export async function pendingTrain(handle: WorkflowHandle): Promise<TrainActivityState | undefined> {
  const { raw } = await handle.describe();
  const pending = raw.pendingActivities?.find((a) => a.activityType?.name === 'train');
  if (!pending) return undefined;
  const payload = pending.heartbeatDetails?.payloads?.[0];
  // Heartbeat details are sealed (infra/codec): opened with the test client's operator codec.
  const [progress] = payload ? await openPayloads(handle, [payload]) : [undefined];
  // Failure messages travel sealed too, in the failure's encoded attributes.
  const encoded = pending.lastFailure?.encodedAttributes;
  const [attributes] = encoded ? await openPayloads(handle, [encoded]) : [undefined];
  return {
    attempt: pending.attempt ?? 1,
    started: pending.state === proto.temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_STARTED,
    workerIdentity: pending.lastWorkerIdentity ?? undefined,
    progress: progress as TrainProgress | undefined,
    lastFailure: (attributes as { message?: string } | undefined)?.message ?? pending.lastFailure?.message ?? undefined,
  };
}

/** The attempts the server started for an activity type, from the workflow's history. */
export async function activityAttempts(client: Client, workflowId: string, activityType: string): Promise<number[]> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const scheduled = new Map<number, string>();
  const attempts: number[] = [];
  for (const e of history.events ?? []) {
    const s = e.activityTaskScheduledEventAttributes;
    if (s) scheduled.set(Number(e.eventId), s.activityType?.name ?? '');
    const started = e.activityTaskStartedEventAttributes;
    if (started && scheduled.get(Number(started.scheduledEventId)) === activityType) attempts.push(started.attempt ?? 1);
  }
  return attempts;
}

/** When the server recorded the (last) completion of an activity type, in ms since the epoch. */
export async function activityCompletedAt(client: Client, workflowId: string, activityType: string): Promise<number | undefined> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const scheduled = new Map<number, string>();
  let at: number | undefined;
  for (const e of history.events ?? []) {
    if (e.activityTaskScheduledEventAttributes) scheduled.set(Number(e.eventId), e.activityTaskScheduledEventAttributes.activityType?.name ?? '');
    const completed = e.activityTaskCompletedEventAttributes;
    if (completed && scheduled.get(Number(completed.scheduledEventId)) === activityType) at = tsToMs(e.eventTime);
  }
  return at;
}

/** The sha256 of a registered model's weights, as its manifest recorded them. */
export async function modelWeightsSha256(store: ArtifactStore, modelId: string): Promise<string> {
  const manifest = await store.readManifest(modelPrefix(modelId));
  const entry = manifest.entries['model.safetensors'];
  if (!entry) throw new Error(`model ${modelId} has no model.safetensors`);
  return entry.sha256;
}

/** sha256 of bytes, hex. */
export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * Gives a job a run key chosen by the test (secrets/runs/<jobId>/run-key is create-only and read
 * by every attempt). Two jobs with the same key, spec and data add the same noise and sample the
 * same batches: the only way to compare two DP runs bit for bit without weakening production.
 */
export async function pinRunKey(store: ArtifactStore, jobId: string, key: Uint8Array): Promise<void> {
  await store.putImmutable(runKeyKey(jobId), key);
}

/** The identities ("<pid>@<host>") of the workers the server saw polling a task queue lately. */
export async function pollers(client: Client, taskQueue: string, kind: 'workflow' | 'activity'): Promise<string[]> {
  const { TASK_QUEUE_TYPE_WORKFLOW, TASK_QUEUE_TYPE_ACTIVITY } = proto.temporal.api.enums.v1.TaskQueueType;
  const res = await client.workflowService.describeTaskQueue({
    namespace: client.options.namespace,
    taskQueue: { name: taskQueue },
    taskQueueType: kind === 'workflow' ? TASK_QUEUE_TYPE_WORKFLOW : TASK_QUEUE_TYPE_ACTIVITY,
  });
  return (res.pollers ?? []).map((p) => p.identity ?? '');
}

/** Payloads of a workflow's history or description, opened by its client's data converter (the codec). */
export async function openPayloads(handle: WorkflowHandle, payloads: proto.temporal.api.common.v1.IPayload[]): Promise<unknown[]> {
  const { payloadConverter, payloadCodecs } = handle.client.options.loadedDataConverter;
  let decoded = payloads as Payload[];
  for (const codec of [...payloadCodecs].reverse()) decoded = await codec.decode(decoded);
  return decoded.map((p) => payloadConverter.fromPayload(p));
}
