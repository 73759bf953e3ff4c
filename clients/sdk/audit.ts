// The client side of the privacy audit: a data owner registers secret canaries for a dataset. The
// file is staged in S3 through a presigned URL (workflow stageUpload, as for datasets) and the
// registerOwnerCanaries workflow gets only its key and digest: the sentences never travel through
// Temporal, and the client needs no S3 credentials.
import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import {
  OWNER_CANARIES_ACTION,
  REGISTER_OWNER_CANARIES_WORKFLOW,
  SHOW_AUDIT_ACTION,
  SHOW_AUDIT_WORKFLOW,
  type RegisterOwnerCanariesInput,
  type RegisterOwnerCanariesResult,
  type ShowAuditResult,
} from '../../contracts/audit.ts';
import type { PresignedUpload } from '../../contracts/datasets.ts';
import { signRequest } from '../../infra/access/index.ts';
import { readsClient } from './catalog.ts';
import { putFile } from './upload.ts';

/** Registers the canaries in `file` (JSON Lines of {"prompt", "secret"}) for `dataset`, as its owner. */
export async function addOwnerCanaries(temporal: Client, taskQueue: string, token: string, dataset: string, file: string): Promise<RegisterOwnerCanariesResult> {
  const id = randomUUID().slice(0, 8);
  const target: PresignedUpload = await temporal.workflow.execute('stageUpload', { taskQueue, workflowId: `stage-upload-${dataset}-canaries-${id}`, args: [signRequest(token, 'upload', { name: dataset })] });
  const sent = await putFile(target.url, file);
  const input: RegisterOwnerCanariesInput = signRequest(token, OWNER_CANARIES_ACTION, { dataset, upload: { key: target.key, size: sent.size, sha256: sent.sha256 } });
  return temporal.workflow.execute(REGISTER_OWNER_CANARIES_WORKFLOW, { taskQueue, workflowId: `owner-canaries-${dataset}-${id}`, args: [input] });
}

/** A model's audit as the token's principal may see it: the owner gets the HTML report, its analyst the analyst's summary. */
export async function showAudit(temporal: Client, taskQueue: string, token: string, modelId: string, readsNamespace?: string): Promise<ShowAuditResult> {
  return readsClient(temporal, readsNamespace).workflow.execute(SHOW_AUDIT_WORKFLOW, { taskQueue, workflowId: `audit-show-${randomUUID()}`, args: [signRequest(token, SHOW_AUDIT_ACTION, { modelId })] });
}
