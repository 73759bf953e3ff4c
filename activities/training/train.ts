// The `train` activity (veil-gpu queue): DP-SGD fine-tuning of GPT-2 on the prepared rows, in a
// worker thread so this thread keeps heartbeating. Heartbeats carry step, loss, ε and the last
// committed checkpoint; checkpoints go to S3 every K steps, on cancellation and at the end. A
// retried attempt (worker killed, S3 down, ...) resumes from the last committed checkpoint with
// the same run key, so it ends bit-identical to an uninterrupted run and spends the same ε.
import { fileURLToPath } from 'node:url';
import { ApplicationFailure, CancelledFailure, Context } from '@temporalio/activity';
import { runTrainingInWorker, TrainConfigError, type ProgressEvent, type TrainConfig } from '../../engine/train/index.ts';
import type { Gpt2WorkerModelOptions } from '../../engine/train-graph/worker-model.ts';
import type { LoraWorkerModelOptions } from '../../engine/train-graph/lora-worker-model.ts';
import type { ModelSpec, PreparedData, TrainCancellation, TrainingSpec, TrainProgress } from '../../contracts/fine-tune.ts';
import { sharedStore } from '../shared/resources.ts';
import { materializeBaseModel } from './base-model.ts';
import { downloadCheckpoint, latestCheckpoint, pruneCheckpoints, uploadCheckpoint, type CheckpointMeta } from './checkpoints.ts';
import { runKeyFor } from './run-secrets.ts';
import { downloadTokenizedRows } from './tokenized-rows.ts';

const WORKER_MODEL = fileURLToPath(new URL('../../engine/train-graph/worker-model.ts', import.meta.url));
const LORA_WORKER_MODEL = fileURLToPath(new URL('../../engine/train-graph/lora-worker-model.ts', import.meta.url));

/** The worker-thread model: the full GPT-2, or (DP-LoRA) adapters on the frozen base. */
function workerModel(input: TrainInput, baseModel: string, rows: number[][]): { module: string; exportName: string; options: unknown } {
  const lora = input.model.lora;
  if (!lora) {
    const options: Gpt2WorkerModelOptions = { model: baseModel, rows, seqLen: input.model.maxSeqLen };
    return { module: WORKER_MODEL, exportName: 'createGradientComputer', options };
  }
  const options: LoraWorkerModelOptions = { model: baseModel, rows, seqLen: input.model.maxSeqLen, lora: { rank: lora.rank, alpha: lora.alpha, targets: lora.targets }, seed: `${input.model.seed}/${input.jobId}` };
  return { module: LORA_WORKER_MODEL, exportName: 'createLoraGradientComputer', options };
}
const HEARTBEAT_EVERY_MS = 2_000;

export interface TrainInput {
  jobId: string;
  data: PreparedData;
  model: ModelSpec;
  training: TrainingSpec;
}

export interface TrainOutput {
  status: 'completed' | 'cancelled';
  checkpoint: CheckpointMeta;
  baseModel: string;
}

export function trainConfigOf(trainRows: number, t: TrainingSpec): TrainConfig {
  return {
    rowCount: trainRows,
    targetEpsilon: t.targetEpsilon,
    delta: t.delta,
    batchSize: t.batchSize,
    epochs: t.epochs,
    maxGradNorm: t.maxGradNorm,
    lr: t.lr,
    warmupSteps: t.warmupSteps,
    physicalBatchSize: t.physicalBatchSize,
    accountant: t.accountant,
    checkpointEvery: t.checkpointEvery,
  };
}

export async function train(input: TrainInput): Promise<TrainOutput> {
  const ctx = Context.current();
  // Heartbeat from the start, not from the first step: fetching a large base model and checkpoint
  // can outlast the heartbeat timeout, and an attempt that never heartbeats in time is timed out
  // and retried, again and again, without ever resuming.
  let progress: TrainProgress = { step: 0, totalSteps: 0, loss: null, epsilon: 0, checkpointStep: null };
  const beat = (): void => ctx.heartbeat(progress);
  beat();
  const timer = setInterval(beat, HEARTBEAT_EVERY_MS);
  try {
    const store = await sharedStore();
    const resumeMeta = await latestCheckpoint(store, input.jobId);
    // An earlier attempt committed the final checkpoint but died before reporting it.
    if (resumeMeta && resumeMeta.step >= resumeMeta.totalSteps) return { status: 'completed', checkpoint: resumeMeta, baseModel: input.model.base };
    if (resumeMeta) progress = { ...progress, step: resumeMeta.step, totalSteps: resumeMeta.totalSteps, epsilon: resumeMeta.epsilon, checkpointStep: resumeMeta.step };
    const baseModel = await materializeBaseModel(store, input.model, input.jobId);
    const rows = await downloadTokenizedRows(store, input.data.prefix, 'train.tokens');
    const runKey = await runKeyFor(store, input.jobId);
    // Moved into the training thread as its state (liveCheckpoints): the process holds one copy of it.
    const resumeFrom = resumeMeta ? await downloadCheckpoint(store, input.jobId, resumeMeta.step) : undefined;
    let lastCheckpoint = resumeMeta;

    const isPrivate = input.training.targetEpsilon !== 'unlimited';
    const handle = runTrainingInWorker(
      {
        model: workerModel(input, baseModel, rows.map((r) => Array.from(r))), config: trainConfigOf(input.data.trainRows, input.training), runKey, resumeFrom,
        // Each checkpoint is uploaded from the run's own weights while the run waits: no copy of them
        // (the optimizer's moments, in the run's optimizer memory, come as a copy: engine/train/README.md).
        // uploadCheckpoint keeps nothing of it once it settles.
        liveCheckpoints: true,
      },
      {
        onProgress(e: ProgressEvent) {
          progress = { ...progress, step: e.step, totalSteps: e.totalSteps, loss: isPrivate ? null : e.loss, epsilon: Number.isFinite(e.epsilon) ? e.epsilon : 'unlimited' };
        },
        async onCheckpoint(ckpt) {
          try {
            lastCheckpoint = await uploadCheckpoint(store, input.jobId, ckpt);
          } catch (err) {
            // Say what failed: a bare "connect ECONNREFUSED" in the UI does not (the retry resumes from the last one).
            throw new Error(`checkpoint step-${ckpt.step} could not be written to S3: ${(err as Error).message}`, { cause: err });
          }
          progress = { ...progress, checkpointStep: ckpt.step };
          beat();
          // Space, not correctness: a checkpoint left behind costs storage until the next prune.
          await pruneCheckpoints(store, input.jobId).catch((err: Error) => ctx.log.warn(`older checkpoints of ${input.jobId} not deleted yet: ${err.message}`));
        },
      },
    );
    // The step under way when the cancellation arrived: the run stops once it is done (reported in
    // the cancellation's details, so "stops within one step" can be checked from the history).
    let cancelRequestedAfterStep: number | undefined;
    const onCancel = (): void => {
      cancelRequestedAfterStep ??= progress.step;
      handle.cancel();
    };
    ctx.cancellationSignal.addEventListener('abort', onCancel);
    // A cancellation (or worker shutdown) that came while the model and data were loading has
    // already fired its 'abort' event: without this the run would go on to the end.
    if (ctx.cancellationSignal.aborted) onCancel();
    try {
      const result = await handle.done;
      if (!lastCheckpoint) throw new Error('training ended without a checkpoint');
      if (result.status === 'cancelled') {
        const details: TrainCancellation = { cancelRequestedAfterStep: cancelRequestedAfterStep ?? result.step, stoppedAfterStep: result.step, checkpointStep: lastCheckpoint.step };
        throw new CancelledFailure(`cancelled after step ${result.step}; checkpoint step-${lastCheckpoint.step} kept`, [details]);
      }
      return { status: result.status, checkpoint: lastCheckpoint, baseModel: input.model.base };
    } finally {
      ctx.cancellationSignal.removeEventListener('abort', onCancel);
    }
  } catch (err) {
    if (err instanceof Error && err.name === TrainConfigError.name) throw ApplicationFailure.nonRetryable(err.message, 'InvalidTrainingConfig');
    throw err;
  } finally {
    clearInterval(timer);
  }
}
