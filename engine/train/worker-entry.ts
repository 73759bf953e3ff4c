// The training worker thread: builds the model named in workerData, runs train(), and relays
// progress and checkpoints to the parent. Checkpoint tensors are transferred (moved), not
// copied: the snapshot is the one copy of the weights a checkpoint costs. A live checkpoint has no
// snapshot: the run's own buffers move to the parent for the upload and come back before the run
// goes on (it waits for the upload anyway), so a checkpoint costs no copy of the weights. The
// optimizer state in the run's optimizer memory cannot move: a live checkpoint copies it.
import { parentPort, workerData } from 'node:worker_threads';
import { pathToFileURL } from 'node:url';
import { isAbsolute } from 'node:path';
import { RunKey } from '../dp/index.ts';
import { OptimizerMemory } from '../optim/index.ts';
import { train } from './trainer.ts';
import type { Checkpoint, GradientComputer } from './types.ts';
import {
  STOP_FLAG_INDEX,
  buffersOf,
  checkpointTensors,
  restoreCheckpointTensors,
  type MainToWorker,
  type ModelFactory,
  type WorkerData,
  type WorkerToMain,
  withCheckpointTensors,
} from './worker-protocol.ts';

const port = parentPort;
if (port === null) throw new Error('worker-entry.ts must run in a worker thread');
const data = workerData as WorkerData;
const control = new Int32Array(data.control);

function post(message: WorkerToMain, transfer: ArrayBuffer[] = []): void {
  port!.postMessage(message, transfer);
}

// The parent answers each checkpoint once its callback (an upload) settles, with a live checkpoint's
// tensors; until then the run waits.
let settleCheckpoint: ((tensors?: Float32Array[]) => void) | undefined;
port.on('message', (message: MainToWorker) => {
  if (message.type === 'checkpoint-settled') settleCheckpoint?.(message.tensors);
});

async function main(): Promise<void> {
  const specifier = isAbsolute(data.model.module) ? pathToFileURL(data.model.module).href : data.model.module;
  const module = (await import(specifier)) as Record<string, unknown>;
  const factory = module[data.model.exportName ?? 'createGradientComputer'];
  if (typeof factory !== 'function') throw new Error(`${data.model.module} does not export a model factory ${data.model.exportName ?? 'createGradientComputer'}`);
  const built = await (factory as ModelFactory)(data.model.options, { resuming: data.resumeFrom !== undefined });
  const runKey = new RunKey(data.runKeyBytes);
  data.runKeyBytes.fill(0); // RunKey holds its own copy
  try {
    await runAndReport(built.model, built.initialParams, runKey);
  } finally {
    await built.model.release?.();
  }
}

async function runAndReport(model: GradientComputer, initialParams: Float32Array[] | undefined, runKey: RunKey): Promise<void> {
  const result = await train(
    {
      config: data.config,
      model,
      initialParams,
      runKey,
      resumeFrom: data.resumeFrom,
      adoptResumeState: true, // workerData's clone is this thread's own
      liveCheckpoints: data.liveCheckpoints,
      shouldStop: () => Atomics.load(control, STOP_FLAG_INDEX) === 1,
    },
    {
      onProgress: (event) => post({ type: 'progress', event }),
      onCheckpoint: (checkpoint: Checkpoint) => new Promise<void>((resolve, reject) => {
        const tensors = checkpointTensors(checkpoint);
        const lengths = tensors.map((t) => t.length);
        const stayed = tensors.map((t) => OptimizerMemory.holds(t));
        const posted = stayed.some(Boolean) ? withCheckpointTensors(checkpoint, tensors.map((t, k) => (stayed[k] ? t.slice() : t))) : checkpoint;
        settleCheckpoint = (returned) => {
          try {
            // A live checkpoint's buffers were moved out of this thread's arrays: put them back.
            if (data.liveCheckpoints) restoreCheckpointTensors(checkpoint, returned ?? [], lengths, stayed);
            resolve();
          } catch (error) {
            reject(error instanceof Error ? error : new Error(String(error)));
          }
        };
        post({ type: 'checkpoint', checkpoint: posted }, buffersOf(checkpointTensors(posted)));
      }),
    },
  );
  post({ type: 'done', result }, buffersOf(result.params));
}

main()
  .catch((error: unknown) => {
    const e = error instanceof Error ? error : new Error(String(error));
    const exitCode = (e as { exitCode?: unknown }).exitCode;
    post({ type: 'error', error: { name: e.name, message: e.message, stack: e.stack, exitCode: typeof exitCode === 'number' ? exitCode : undefined } });
  })
  .finally(() => {
    port.unref(); // the message listener must not keep a finished worker alive
  });
