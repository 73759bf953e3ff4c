// A data owner's audit policy for a dataset, from the client: the least number of random canaries
// Veil inserts into every fine-tune on it (so every model gets an empirical ε lower bound).
import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { AUDIT_POLICY_ACTION, SET_AUDIT_POLICY_WORKFLOW, type AuditPolicy, type SetAuditPolicyInput, type SetAuditPolicyResult } from '../../contracts/audit.ts';
import { signRequest } from '../../infra/access/index.ts';

/** Sets `dataset`'s audit policy, as its owner (0 removes the minimum). */
export async function setAuditPolicy(temporal: Client, taskQueue: string, token: string, dataset: string, policy: AuditPolicy): Promise<SetAuditPolicyResult> {
  const input: SetAuditPolicyInput = signRequest(token, AUDIT_POLICY_ACTION, { dataset, policy });
  return temporal.workflow.execute(SET_AUDIT_POLICY_WORKFLOW, { taskQueue, workflowId: `audit-policy-${dataset}-${randomUUID().slice(0, 8)}`, args: [input] });
}
