// The thread side of compute-worker.ts: imports the work's module, calls its function with the
// argument and a progress reporter, and posts the result or the error back.
import { parentPort, workerData } from 'node:worker_threads';

export interface ComputeWorkerData {
  module: string;
  fn: string;
  arg: unknown;
  /** Int32 flag, set to 1 by the activity's thread when the activity is cancelled. */
  cancelled: SharedArrayBuffer;
}

/** Thrown from progress.report once the activity was cancelled: the work unwinds between native calls. */
export class ComputeCancelled extends Error {
  override name = 'ComputeCancelled';
}

export interface SerializedComputeError {
  name: string;
  message: string;
  stack?: string;
  /** Set when the error was an ApplicationFailure: its type and whether a retry may help. */
  applicationFailure?: { type?: string; nonRetryable: boolean };
}

export type ComputeWorkerMessage<R> =
  | { type: 'progress'; details: unknown }
  | { type: 'done'; value: R }
  | { type: 'error'; error: SerializedComputeError };

function serialize(error: unknown): SerializedComputeError {
  const e = error instanceof Error ? error : new Error(String(error));
  const failure = e as { type?: unknown; nonRetryable?: unknown };
  const isApplicationFailure = e.name === 'ApplicationFailure' && typeof failure.nonRetryable === 'boolean';
  return {
    name: e.name,
    message: e.message,
    stack: e.stack,
    applicationFailure: isApplicationFailure ? { type: typeof failure.type === 'string' ? failure.type : undefined, nonRetryable: failure.nonRetryable as boolean } : undefined,
  };
}

const port = parentPort;
if (port === null) throw new Error('compute-worker-entry.ts must run in a worker thread');
const data = workerData as ComputeWorkerData;
const post = (message: ComputeWorkerMessage<unknown>): void => port.postMessage(message);
const cancelled = new Int32Array(data.cancelled);

async function main(): Promise<void> {
  const module = (await import(data.module)) as Record<string, unknown>;
  const work = module[data.fn];
  if (typeof work !== 'function') throw new Error(`${data.module} does not export a function ${data.fn}`);
  const value: unknown = await (work as (arg: unknown, progress: { report(details?: unknown): void }) => unknown)(data.arg, {
    // The work reports between its native calls: the one place it can stop without tearing a
    // session down mid-run (terminating the thread then aborts the whole process in onnxruntime).
    report: (details) => {
      if (Atomics.load(cancelled, 0) === 1) throw new ComputeCancelled('the activity was cancelled');
      post({ type: 'progress', details });
    },
  });
  post({ type: 'done', value });
}

main().catch((error: unknown) => post({ type: 'error', error: serialize(error) }));
