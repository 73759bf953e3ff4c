// jobsUiFilter: the caller's own filter for the Temporal UI's list of fine-tunes
// (`VeilAnalyst="…"`, or a dataset's for its owner). The pseudonyms are keyed with the service
// key, which clients do not hold: the activity verifies the signature and computes them. A read
// (workers/read-workflows.ts runs it in the reads namespace).
import { proxyActivities } from '@temporalio/workflow';
import type { JobActivities, UiFilterAnswer } from '../../activities/jobs/index.ts';
import { NON_RETRYABLE } from '../../contracts/failures.ts';

const { jobsUiFilter: computeFilter } = proxyActivities<JobActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1s', maximumInterval: '10s', maximumAttempts: 10, nonRetryableErrorTypes: [...NON_RETRYABLE.catalog] },
});

export async function jobsUiFilter(input: unknown): Promise<UiFilterAnswer> {
  return computeFilter(input);
}
