// What crosses the boundary between the caller's thread and the training worker thread.
import type { Checkpoint, GradientComputer, ProgressEvent, TrainConfig, TrainResult } from './types.ts';

/** What a model module's factory returns inside the worker. */
export interface ModelFactoryResult {
  model: GradientComputer;
  /** Starting weights; may be omitted when context.resuming (the checkpoint has them). */
  initialParams?: Float32Array[];
}

export type ModelFactory = (options: unknown, context: { resuming: boolean }) => ModelFactoryResult | Promise<ModelFactoryResult>;

/**
 * The model, named so a worker can build it: models hold native sessions and closures that
 * cannot be sent between threads. `module` is an absolute path or file: URL of a .ts/.js module
 * exporting a ModelFactory as `exportName` (default `createGradientComputer`); `options` must
 * be structured-cloneable (e.g. the S3-downloaded weights' local path and a GPT-2 config).
 */
export interface WorkerModelSpec {
  module: string;
  exportName?: string;
  options?: unknown;
}

export interface WorkerData {
  model: WorkerModelSpec;
  config: TrainConfig;
  runKeyBytes: Uint8Array;
  resumeFrom?: Checkpoint;
  /** Checkpoints move the run's own buffers to the parent and back (see WorkerTrainRequest.liveCheckpoints). */
  liveCheckpoints: boolean;
  /** Int32Array over it: [0] = 1 asks the run to stop after the current step. */
  control: SharedArrayBuffer;
}

export interface SerializedError {
  name: string;
  message: string;
  stack?: string;
  exitCode?: number;
}

export type WorkerToMain =
  | { type: 'progress'; event: ProgressEvent }
  | { type: 'checkpoint'; checkpoint: Checkpoint }
  | { type: 'done'; result: TrainResult }
  | { type: 'error'; error: SerializedError };

/** `tensors`: a live checkpoint's tensors (checkpointTensors order), moved back to the run. */
export type MainToWorker = { type: 'checkpoint-settled'; tensors?: Float32Array[] };

export const STOP_FLAG_INDEX = 0;

/** The distinct ArrayBuffers under some typed arrays, to transfer rather than copy them. */
export function buffersOf(arrays: Iterable<ArrayBufferView>): ArrayBuffer[] {
  const buffers = new Set<ArrayBuffer>();
  for (const array of arrays) {
    if (array.buffer instanceof ArrayBuffer) buffers.add(array.buffer);
  }
  return [...buffers];
}

export function checkpointTensors(checkpoint: Checkpoint): Float32Array[] {
  return [...checkpoint.params, ...Object.values(checkpoint.optimizerState.slots).flat()];
}

/** A shallow copy of `checkpoint` holding `tensors` (checkpointTensors order) instead of its own. */
export function withCheckpointTensors(checkpoint: Checkpoint, tensors: readonly Float32Array[]): Checkpoint {
  let next = checkpoint.params.length;
  const slots: Record<string, Float32Array[]> = {};
  for (const [slot, buffers] of Object.entries(checkpoint.optimizerState.slots)) {
    slots[slot] = tensors.slice(next, next + buffers.length);
    next += buffers.length;
  }
  return { ...checkpoint, params: tensors.slice(0, checkpoint.params.length), optimizerState: { ...checkpoint.optimizerState, slots } };
}

/**
 * Puts tensors back where checkpointTensors found them (`lengths`: theirs before they were moved
 * away), in the checkpoint's own arrays: for a live checkpoint, the run's parameter and optimizer
 * slot arrays. Where `stayed` is true the run's tensor was copied, not moved, and is kept.
 */
export function restoreCheckpointTensors(checkpoint: Checkpoint, tensors: readonly Float32Array[], lengths: readonly number[], stayed?: readonly boolean[]): void {
  const arrays = [checkpoint.params, ...Object.values(checkpoint.optimizerState.slots)];
  let next = 0;
  for (const array of arrays) {
    for (let k = 0; k < array.length; k++) {
      const tensor = tensors[next];
      if (tensor?.length !== lengths[next]) throw new Error(`checkpoint tensor ${next} came back with ${tensor?.length} values, expected ${lengths[next]}`);
      if (stayed?.[next] !== true) array[k] = tensor;
      next += 1;
    }
  }
  if (next !== tensors.length) throw new Error(`${tensors.length} checkpoint tensors came back, expected ${next}`);
}
