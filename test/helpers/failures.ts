// The failure a workflow ended with, wherever in its cause chain the typed failure was raised.
import assert from 'node:assert/strict';
import { WorkflowFailedError } from '@temporalio/client';

export async function workflowFailure(run: Promise<unknown>): Promise<{ type?: string; message: string }> {
  const err = await run.then(() => assert.fail('accepted'), (e: unknown) => e);
  assert.ok(err instanceof WorkflowFailedError, String(err));
  let cause: unknown = err.cause;
  while (cause instanceof Error && !('type' in cause) && cause.cause) cause = cause.cause;
  return { type: (cause as { type?: string }).type, message: String((cause as Error).message) };
}
