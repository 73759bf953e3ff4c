// registerOwnerCanaries: a data owner's secret canaries for a dataset, from a file the owner staged
// in S3 (stageUpload). The input holds the staged object's key and digest only, so the sentences
// never enter the workflow's history; the activity checks the owner's signature, validates and
// commits them under datasets/<name>/canaries/, and the staged file is deleted whatever happens.
import { CancellationScope, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { datasetActivities } from '../activities/datasets/activities.ts';
import type { GpuActivities } from '../activities/index.ts';
import { registerOwnerCanariesSchema, setAuditPolicySchema, type RegisterOwnerCanariesResult, type SetAuditPolicyResult } from '../contracts/audit.ts';
import { ACCESS_REFUSALS, Failure } from '../contracts/failures.ts';
import { parseInput } from '../contracts/validation.ts';

// The audit's activities are registered on the GPU queue (activities/audit/index.ts).
const { registerOwnerCanaries: register, setAuditPolicy: setPolicy } = proxyActivities<Pick<GpuActivities, 'registerOwnerCanaries' | 'setAuditPolicy'>>({
  taskQueue: `${workflowInfo().taskQueue}-gpu`,
  startToCloseTimeout: '5 minutes',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 20, nonRetryableErrorTypes: [...ACCESS_REFUSALS, Failure.InvalidInput] },
});

const { deleteStagedUpload } = proxyActivities<ReturnType<typeof datasetActivities>>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 25 },
});

export async function registerOwnerCanaries(input: unknown): Promise<RegisterOwnerCanariesResult> {
  const spec = parseInput('registerOwnerCanaries', registerOwnerCanariesSchema, input);
  try {
    return await register(input);
  } finally {
    await CancellationScope.nonCancellable(() => deleteStagedUpload({ key: spec.upload.key }));
  }
}

/** setAuditPolicy: the owner's minimum of inserted canaries for every fine-tune on a dataset. */
export async function setAuditPolicy(input: unknown): Promise<SetAuditPolicyResult> {
  parseInput('setAuditPolicy', setAuditPolicySchema, input);
  return setPolicy(input);
}
