// Reading why a workflow failed: the innermost ApplicationFailure of a failure chain is the
// activity's or workflow's own error (its `type` says what kind of refusal it was).
import { ApplicationFailure } from '@temporalio/common';

export function applicationCause(err: unknown): ApplicationFailure | undefined {
  let found: ApplicationFailure | undefined;
  for (let e: unknown = err; e instanceof Error; e = e.cause) if (e instanceof ApplicationFailure) found = e;
  return found;
}
