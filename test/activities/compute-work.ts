// Work functions for compute-worker.test.ts, run in a worker thread by runComputeInWorker.
import { threadId } from 'node:worker_threads';
import { ApplicationFailure } from '@temporalio/common';
import type { ComputeProgress } from '../../activities/shared/compute-worker.ts';

export function refuse(arg: { type: string }): never {
  throw ApplicationFailure.nonRetryable('refused in the thread', arg.type);
}

export function crash(): never {
  throw new RangeError('out of range in the thread');
}

/** Reports two phases, blocking its thread between them as a native call would, then returns. */
export function phases(arg: { blockMs: number }, progress: ComputeProgress): { threadId: number } {
  progress.report({ phase: 'one' });
  const until = Date.now() + arg.blockMs;
  while (Date.now() < until); // busy: this thread's event loop is stuck, not the activity's
  progress.report({ phase: 'two' });
  return { threadId };
}
