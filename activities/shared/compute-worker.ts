// The GPU queue's heavy work (evaluation, sampling, the audit) off the activity's event loop.
// onnxruntime-node's session.run is synchronous native code: on a large model one call blocks its
// thread for seconds, and building the sessions for longer, so an activity that scored on its own
// thread could not heartbeat and would be timed out and retried while it worked. The work runs in
// a worker thread; this side heartbeats on a timer with the latest progress the work reported. On
// cancellation the activity returns at once and the thread is told to stop: it throws at its next
// progress report, between native calls, and only then is terminated. Terminating a thread in the
// middle of onnxruntime's run aborts the whole process ("terminate called after throwing
// Napi::Error"), workers and all.
import { Worker } from 'node:worker_threads';
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { SerializedComputeError, ComputeWorkerData, ComputeWorkerMessage } from './compute-worker-entry.ts';

const WORKER_ENTRY = new URL('./compute-worker-entry.ts', import.meta.url).href;
// Node 20 workers do not inherit --import: tsx's loader is registered in the thread first.
const TSX_API = import.meta.resolve('tsx/esm/api');
const BOOTSTRAP = `import(${JSON.stringify(TSX_API)}).then(({ register }) => { register(); return import(${JSON.stringify(WORKER_ENTRY)}); });`;

/** Heartbeats at least this often while the work runs (the SDK throttles what it sends). */
export const COMPUTE_HEARTBEAT_EVERY_MS = 1_000;

/** What the work's function receives besides its argument: a way to report progress (the next heartbeat's details). */
export interface ComputeProgress {
  report(details?: unknown): void;
}

export class ComputeWorkerError extends Error {
  constructor(error: SerializedComputeError) {
    super(error.message);
    this.name = error.name;
    if (error.stack) this.stack = `${error.stack}\n    (in a compute worker thread)`;
  }
}

/** An ApplicationFailure keeps its type and retry policy across the thread boundary; anything else keeps its name and message. */
function rebuild(error: SerializedComputeError): Error {
  if (error.applicationFailure) {
    return ApplicationFailure.create({ message: error.message, type: error.applicationFailure.type, nonRetryable: error.applicationFailure.nonRetryable });
  }
  return new ComputeWorkerError(error);
}

/**
 * Calls export `fn` of `module` as `fn(arg, progress)` in a fresh worker thread, from inside an
 * activity, and returns its result (a structured-clone copy). Heartbeats every
 * COMPUTE_HEARTBEAT_EVERY_MS with the details last reported (`initialDetails` until then).
 * When the activity is cancelled the thread is terminated and the CancelledFailure is thrown.
 */
export async function runComputeInWorker<A, R>(module: URL, fn: string, arg: A, initialDetails?: unknown): Promise<R> {
  const ctx = Context.current();
  let details = initialDetails;
  const beat = (): void => ctx.heartbeat(details);
  beat();
  const timer = setInterval(beat, COMPUTE_HEARTBEAT_EVERY_MS);
  const cancelled = new SharedArrayBuffer(4);
  const data: ComputeWorkerData = { module: module.href, fn, arg, cancelled };
  const worker = new Worker(BOOTSTRAP, { eval: true, workerData: data });
  let onAbort: (() => void) | undefined;
  try {
    return await new Promise<R>((resolve, reject) => {
      let settled = false;
      const settle = (outcome: () => void): void => {
        if (settled) return;
        settled = true;
        outcome();
      };
      worker.on('message', (message: ComputeWorkerMessage<R>) => {
        if (message.type === 'progress') {
          details = message.details;
          beat();
        } else if (message.type === 'done') settle(() => resolve(message.value));
        else settle(() => reject(rebuild(message.error)));
      });
      worker.on('error', (err) => settle(() => reject(err)));
      worker.on('exit', (code) => settle(() => reject(new Error(`compute worker thread exited (code ${code}) before finishing ${fn}`))));
      onAbort = () => {
        Atomics.store(new Int32Array(cancelled), 0, 1);
        settle(() => reject(ctx.cancellationSignal.reason ?? new Error('activity cancelled')));
      };
      if (ctx.cancellationSignal.aborted) onAbort();
      else ctx.cancellationSignal.addEventListener('abort', onAbort);
    });
  } finally {
    clearInterval(timer);
    if (onAbort) ctx.cancellationSignal.removeEventListener('abort', onAbort);
    if (Atomics.load(new Int32Array(cancelled), 0) === 1) {
      // Cancelled: the thread may be inside a native call; it ends by itself at its next report.
      // It is terminated once it has posted its last message (no native call under way then).
      worker.on('message', (message: ComputeWorkerMessage<R>) => {
        if (message.type !== 'progress') void worker.terminate();
      });
    } else {
      // Done or failed: the thread and the native sessions it holds go.
      await worker.terminate();
    }
  }
}
