// The audit's signed owner requests (register canaries, show an audit): the signature must verify
// for a data owner who owns the dataset. Checked here rather than in activities/access because
// only the audit takes these actions; the checks are the same ones `authorize` makes.
import { ApplicationFailure, Context } from '@temporalio/activity';
import { FORBIDDEN, UNAUTHENTICATED } from '../../contracts/access.ts';
import { datasetOwner, readPrincipalRecord, requestSignatureMatches, type RequestAuth } from '../../infra/access/index.ts';
import type { ArtifactStore } from '../../infra/storage/index.ts';
import { claimRequest } from '../access/single-use.ts';

export interface Signer {
  id: string;
  role: string;
  privileged: boolean;
}

/** Who signed `request` for `action`; `once` claims its nonce (requests that write). */
export async function verifySigner(store: ArtifactStore, action: string, request: Record<string, unknown>, once: boolean): Promise<Signer> {
  const auth = request.auth as RequestAuth | undefined;
  if (!auth || typeof auth.principal !== 'string') throw ApplicationFailure.nonRetryable('the request is not signed: pass the data owner\'s token (VEIL_TOKEN or --token)', UNAUTHENTICATED);
  const record = await readPrincipalRecord(store, auth.principal);
  if (!record || !requestSignatureMatches(record.secret, action, request)) {
    throw ApplicationFailure.nonRetryable(`the request's signature does not verify for principal "${auth.principal}"`, UNAUTHENTICATED);
  }
  if (record.revokedAt) throw ApplicationFailure.nonRetryable(`the token of ${auth.principal} was revoked on ${record.revokedAt}`, UNAUTHENTICATED);
  if (once) {
    const run = Context.current().info.workflowExecution;
    await claimRequest(store, auth, action, run ? { workflowId: run.workflowId, runId: run.runId } : undefined);
  }
  return { id: record.id, role: record.role, privileged: record.privileged };
}

/** Refuses unless `signer` is the data owner of `dataset`. */
export async function requireDatasetOwner(store: ArtifactStore, signer: Signer, dataset: string): Promise<void> {
  if (signer.role !== 'owner' || (await datasetOwner(store, dataset)) !== signer.id) {
    throw ApplicationFailure.nonRetryable(`${signer.id} does not own dataset "${dataset}": only its data owner may do this`, FORBIDDEN);
  }
}
