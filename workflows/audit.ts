// showAudit: a model's privacy audit, for the dataset's owner (summary and HTML report) or the
// model's analyst (the analyst's summary). The activity checks the caller's signature itself.
import { proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { GpuActivities } from '../activities/index.ts';
import { showAuditSchema, type ShowAuditResult } from '../contracts/audit.ts';
import { NON_RETRYABLE } from '../contracts/failures.ts';
import { parseInput } from '../contracts/validation.ts';

export async function showAudit(input: unknown): Promise<ShowAuditResult> {
  const spec = parseInput('showAudit', showAuditSchema, input);
  // The audit's activities are registered on the GPU queue (activities/audit/index.ts).
  const { showAudit: show } = proxyActivities<Pick<GpuActivities, 'showAudit'>>({
    taskQueue: `${workflowInfo().taskQueue}-gpu`,
    startToCloseTimeout: '2 minutes',
    retry: { initialInterval: '1 second', maximumInterval: '10 seconds', maximumAttempts: 10, nonRetryableErrorTypes: [...NON_RETRYABLE.sample] },
  });
  return show(spec);
}
