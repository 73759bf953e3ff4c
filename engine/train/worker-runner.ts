// Training off the caller's event loop: session.run and the JS optimizer loops block their
// thread for seconds per step, which would stop a Temporal worker from heartbeating. The run
// lives in a worker thread; this side relays its progress and checkpoints to the callbacks and
// can ask it to stop (it finishes the current step, checkpoints, and returns 'cancelled').
import { startModuleWorker } from '../threads/module-worker.ts';
import { RunKey } from '../dp/index.ts';
import type { Checkpoint, TrainCallbacks, TrainConfig, TrainResult } from './types.ts';
import {
  STOP_FLAG_INDEX,
  buffersOf,
  checkpointTensors,
  type MainToWorker,
  type SerializedError,
  type WorkerData,
  type WorkerModelSpec,
  type WorkerToMain,
} from './worker-protocol.ts';

export interface WorkerTrainRequest {
  model: WorkerModelSpec;
  config: TrainConfig;
  /** Sent to the worker as bytes (structured clone), never logged. Prefer a RunKey; raw bytes are wrapped. */
  runKey: RunKey | Uint8Array;
  /**
   * Copied into the worker once (structured clone) and adopted there as the run's state; with
   * liveCheckpoints its buffers are moved there instead (detached here: no second copy).
   */
  resumeFrom?: Checkpoint;
  /**
   * onCheckpoint receives the run's own weights and optimizer state, moved to this thread, instead
   * of a snapshot copy: usable until the callback settles, then moved back to the run (which waits
   * for them), so a checkpoint costs no copy of the model. A callback must copy what it keeps.
   */
  liveCheckpoints?: boolean;
}

export interface TrainingHandle {
  /** Settles after the worker finished and every callback it triggered has settled. */
  readonly done: Promise<TrainResult>;
  /** Ask the run to stop after its current step (it checkpoints first). Idempotent. */
  cancel(): void;
  /** Kill the worker now, mid-step, without a checkpoint (done rejects). */
  terminate(): Promise<void>;
}

export class TrainingWorkerError extends Error {
  readonly exitCode?: number;
  constructor(error: SerializedError) {
    super(error.message);
    this.name = error.name;
    this.exitCode = error.exitCode;
    if (error.stack) this.stack = `${error.stack}\n    (in the training worker thread)`;
  }
}

const WORKER_ENTRY = new URL('./worker-entry.ts', import.meta.url).href;

export function runTrainingInWorker(request: WorkerTrainRequest, callbacks: TrainCallbacks = {}): TrainingHandle {
  const control = new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT);
  const workerData: WorkerData = {
    model: request.model,
    config: request.config,
    runKeyBytes: RunKey.from(request.runKey).exposeBytes(),
    resumeFrom: request.resumeFrom,
    liveCheckpoints: request.liveCheckpoints === true,
    control,
  };
  const live = workerData.liveCheckpoints;
  const transferList = live && request.resumeFrom ? buffersOf(checkpointTensors(request.resumeFrom)) : [];
  // tsx compiles the .ts entry (and the model module) inside the worker too.
  const worker = startModuleWorker(WORKER_ENTRY, { workerData, transferList });
  workerData.runKeyBytes.fill(0); // the worker has its copy; do not leave one lying here

  // Callbacks run one after another, in message order; `done` waits for the last one.
  let chain: Promise<void> = Promise.resolve();
  let settled = false;
  const done = new Promise<TrainResult>((resolve, reject) => {
    const fail = (error: unknown): void => {
      if (settled) return;
      settled = true;
      void worker.terminate();
      reject(error instanceof Error ? error : new Error(String(error)));
    };
    const enqueue = (task: () => void | Promise<void>): void => {
      chain = chain.then(task).catch(fail);
    };
    worker.on('message', (message: WorkerToMain) => {
      switch (message.type) {
        case 'progress':
          enqueue(() => callbacks.onProgress?.(message.event));
          break;
        case 'checkpoint':
          enqueue(async () => {
            await callbacks.onCheckpoint?.(message.checkpoint);
            // A live checkpoint's buffers are the run's: they go back to it.
            const tensors = live ? checkpointTensors(message.checkpoint) : undefined;
            worker.postMessage({ type: 'checkpoint-settled', tensors } satisfies MainToWorker, tensors ? buffersOf(tensors) : []);
          });
          break;
        case 'done':
          enqueue(() => {
            settled = true;
            resolve(message.result);
          });
          break;
        case 'error':
          enqueue(() => fail(new TrainingWorkerError(message.error)));
          break;
      }
    });
    worker.on('error', fail);
    worker.on('exit', (code) => {
      enqueue(() => fail(new Error(`training worker exited (code ${code}) before finishing`)));
    });
  });

  return {
    done,
    cancel: () => {
      Atomics.store(new Int32Array(control), STOP_FLAG_INDEX, 1);
    },
    terminate: async () => {
      await worker.terminate();
    },
  };
}
