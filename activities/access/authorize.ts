// The activities that turn a signed request into an identity: they run on Veil's workers (which hold
// the principal registry's S3 credentials), check the signature and the access rules, and answer
// with who is asking, or a non-retryable refusal that costs no budget. Workflows call them before
// anything reads data or spends ε; the ledger calls them before any write.
import { ApplicationFailure, Context } from '@temporalio/activity';
import { Failure } from '../../contracts/failures.ts';
import { FORBIDDEN, UNAUTHENTICATED } from '../../contracts/access.ts';
import {
  datasetOwner,
  claimDatasetOwner,
  readPrincipal,
  readPrincipalRecord,
  requestSignatureMatches,
  type Principal,
  type RequestAuth,
} from '../../infra/access/index.ts';
import { sharedStore } from '../shared/resources.ts';
import { ACTIONS, decide, type AccessFacts, type Action } from './policy.ts';
import { claimRequest } from './single-use.ts';

/** Requests that spend, write or start something: each runs once (reads may be repeated). */
const SINGLE_USE: readonly Action[] = ['fineTune', 'sample', 'ingestDataset', 'upload', 'grant'];

export interface AuthorizeInput {
  action: Action;
  /** The request exactly as the workflow received it, `auth` included. */
  request: unknown;
}

function unauthenticated(message: string): ApplicationFailure {
  return ApplicationFailure.nonRetryable(message, UNAUTHENTICATED);
}

function authOf(request: Record<string, unknown>): RequestAuth {
  const auth = request.auth as Partial<RequestAuth> | undefined;
  if (typeof auth !== 'object' || auth === null || typeof auth.principal !== 'string' || typeof auth.signature !== 'string') {
    throw unauthenticated('the request is not signed: pass a Veil access token (VEIL_TOKEN, --token, or VeilClient.connect({ token })); `veil access sign` signs a request for the Temporal UI');
  }
  return auth as RequestAuth;
}

async function factsFor(action: Action, request: Record<string, unknown>, principal: Principal): Promise<AccessFacts> {
  const store = await sharedStore();
  if ((action === 'ingestDataset' || action === 'upload') && typeof request.name === 'string') {
    // The claim is the ownership record: a new dataset name becomes the ingesting owner's here.
    const owner = principal.role === 'owner' ? await claimDatasetOwner(store, request.name, principal.id) : await datasetOwner(store, request.name);
    return { datasetOwner: owner };
  }
  if (action === 'grant' && typeof request.dataset === 'string' && typeof request.analyst === 'string') {
    return { datasetOwner: await datasetOwner(store, request.dataset), grantee: await readPrincipal(store, request.analyst) };
  }
  return {};
}

/** Checks a signed request: who signed it, that the signature covers it, that they may do it. */
export async function authorize(input: AuthorizeInput): Promise<Principal> {
  if (!ACTIONS.includes(input.action)) throw ApplicationFailure.nonRetryable(`unknown action ${String(input.action)}`, FORBIDDEN);
  if (typeof input.request !== 'object' || input.request === null) throw unauthenticated('the request is not signed');
  const request = input.request as Record<string, unknown>;
  const auth = authOf(request);
  const record = await readPrincipalRecord(await sharedStore(), auth.principal);
  // One message for an unknown principal and a bad signature: a refusal does not say which ids exist.
  if (!record || !requestSignatureMatches(record.secret, input.action, request)) {
    throw unauthenticated(`the request's signature does not verify for principal "${auth.principal}" (wrong token, or the request was changed after signing)`);
  }
  if (record.revokedAt) throw unauthenticated(`the token of ${auth.principal} was revoked on ${record.revokedAt}`);
  if (input.action === 'fineTune' && typeof request.jobId !== 'string' && !auth.schedule) {
    throw ApplicationFailure.nonRetryable('a signed fine-tune names its job id (jobId): clients make one; it is what makes the request run once', Failure.InvalidInput);
  }
  if (SINGLE_USE.includes(input.action)) {
    const run = Context.current().info.workflowExecution;
    await claimRequest(await sharedStore(), auth, input.action, run ? { workflowId: run.workflowId, runId: run.runId } : undefined);
  }
  const principal: Principal = { id: record.id, role: record.role, privileged: record.privileged, createdAt: record.createdAt };
  const refusal = decide(principal, input.action, request, await factsFor(input.action, request, principal));
  if (refusal) throw ApplicationFailure.nonRetryable(refusal.message, refusal.kind);
  return principal;
}
