// Single-use signed requests. Anyone who reads a workflow's history can copy its signed input and
// start it again under another workflow id; a request is therefore good for one workflow only: the
// first workflow to present its nonce claims it (a create-only record in S3), every retry and
// replay of that same workflow passes, any other workflow is refused. Requests also expire.
//
// A schedule's input is signed once and presented by each of its runs. Such a request names its
// schedule and interval; each run must be one the schedule itself started (the schedule's own
// record of its recent actions, which a client cannot write), and each interval of the signed
// schedule can run it once: triggering the schedule by hand, or re-creating it with a shorter
// interval, cannot spend the analyst's budget faster than the analyst signed for.
import { ApplicationFailure } from '@temporalio/activity';
import { Failure } from '../../contracts/failures.ts';
import type { RequestAuth } from '../../infra/access/index.ts';
import { ObjectExistsError, requestNonceKey, type ArtifactStore } from '../../infra/storage/index.ts';
import { sharedTemporalClient } from '../shared/resources.ts';

/** The longest a request may be signed for: a schedule's input lives as long as the schedule. */
const MAX_LIFETIME_MS = { request: 7 * 24 * 3600 * 1000, schedule: 400 * 24 * 3600 * 1000 };

const refuse = (message: string) => ApplicationFailure.nonRetryable(message, Failure.Unauthenticated);

export interface Presenter {
  workflowId: string;
  runId: string;
}

/** Checks expiry and claims the nonce for `presenter`; throws Unauthenticated on a reused or stale request. */
export async function claimRequest(store: ArtifactStore, auth: RequestAuth, action: string, presenter: Presenter | undefined): Promise<void> {
  if (typeof auth.nonce !== 'string' || typeof auth.expiresAt !== 'number') {
    throw refuse(`a signed ${action} request must carry a nonce and an expiry: sign it again with a current client (\`veil access sign\`, VeilClient)`);
  }
  const now = Date.now();
  const lifetime = auth.schedule ? MAX_LIFETIME_MS.schedule : MAX_LIFETIME_MS.request;
  if (auth.expiresAt <= now) throw refuse(`the signed request expired on ${new Date(auth.expiresAt).toISOString()}: sign it again`);
  if (auth.expiresAt > now + lifetime) throw refuse(`the signed request is good for more than ${Math.round(lifetime / 86_400_000)} days: sign it with a shorter lifetime`);
  if (!presenter) throw refuse(`a signed ${action} request is presented by a workflow`);
  let slot = auth.nonce;
  if (auth.schedule) slot = `${auth.nonce}-${await scheduledSlot(auth.schedule, presenter)}`;
  const key = requestNonceKey(auth.principal, slot);
  try {
    await store.putJsonImmutable(key, { action, workflowId: presenter.workflowId, claimedAt: new Date(now).toISOString() });
    return;
  } catch (err) {
    if (!(err instanceof ObjectExistsError)) throw err;
  }
  const claim = JSON.parse((await store.getRawBuffer(key)).toString('utf8')) as { workflowId?: string };
  if (claim.workflowId !== presenter.workflowId) {
    throw refuse(`this signed request was already used by another workflow: a request runs once (sign a new one to run again)`);
  }
}

/** Which interval of its schedule this run belongs to, checked against the schedule's own record. */
async function scheduledSlot(schedule: { id: string; everyMs: number }, presenter: Presenter): Promise<number> {
  const client = await sharedTemporalClient();
  let description;
  try {
    description = await client.schedule.getHandle(schedule.id).describe();
  } catch {
    throw refuse(`schedule "${schedule.id}" does not exist: this request is only good for its runs`);
  }
  const action = description.info.recentActions.find((a) => a.action.type === 'startWorkflow' && a.action.workflow.workflowId === presenter.workflowId);
  if (!action) throw refuse(`workflow ${presenter.workflowId} was not started by schedule "${schedule.id}": the schedule's signed input is only good for its runs`);
  return Math.floor(action.scheduledAt.getTime() / schedule.everyMs);
}
