// The privacy-budget ledger: one long-lived entity workflow per (dataset, analyst), id
// `ledger/<dataset>/<analyst>` (see ledgerWorkflowId). The data owner sets the analyst's (ε, δ)
// grant; every job reserves before it touches data, then commits what it actually spent or, if it
// never touched data, releases.
//
// Accounting: basic (sequential) composition. Jobs on the same dataset by the same analyst compose
// by adding their ε and their δ, so the ledger sums both and refuses a reservation when either sum
// would exceed the grant. This is conservative (advanced composition would be tighter for many
// small jobs) but needs no assumption about the mechanisms behind each job. A committed job is
// charged its accountant's ε (≤ reserved) and, unless it says otherwise, its reserved δ.
//
// Atomicity: a workflow runs on one thread; every validator and every apply* (rules.ts) is fully
// synchronous, with no await between the final budget check and the mutation, so 50 concurrent
// reservations can never over-spend. Handlers await the signature check before applying, so
// several concurrent requests may pass their validators before any applies: apply* checks again,
// and a request that no longer fits fails as a failed Update (BudgetExhausted), never as a charge.
// Refusals that the validators can see (bad input, no budget) never enter the workflow's history.
//
// History: the workflow continues as new after `continueAsNewAfter` Updates (default 500; the
// server allows 2,000 per run) or when the server suggests it, carrying its whole state, after
// every running handler has finished. Updates that reach the closing run are retried by the server
// on the new one. The state keeps every job id forever (that is what makes job ids idempotent):
// about 200 bytes a job, so some 10,000 jobs per (dataset, analyst) fit the 2 MB payload limit of
// continue-as-new; compacting old settled jobs is left for when a ledger gets near that.
import {
  ActivityFailure,
  ApplicationFailure,
  allHandlersFinished,
  condition,
  patched,
  continueAsNew,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { authorize, verifyServiceRequest } from '../../activities/access/authorize.ts';
import { ACCESS_REFUSALS, SERVICE_PRINCIPAL, TWIN_ANALYST } from '../../contracts/access.ts';
import { LedgerErrorType, ledgerFailure } from './errors.ts';
import { balanceQuery, commitUpdate, grantUpdate, releaseUpdate, reservationQuery, reserveUpdate, stateQuery } from './definitions.ts';
import {
  applyCommit,
  applyGrant,
  applyLegacyGrant,
  applyRelease,
  applyReserve,
  balanceOf,
  checkCommit,
  checkGrant,
  checkRelease,
  checkReserve,
  emptyLedgerState,
  findReservation,
} from './rules.ts';
import type { LedgerInput, LedgerState } from './types.ts';

const DEFAULT_CONTINUE_AS_NEW_AFTER = 500;
/** The workflow-versioning patch that introduced signed writes (see signedWrite). */
const SIGNED_WRITES_PATCH = 'signed-ledger-writes';

// A refusal is final; an S3 or worker hiccup is retried (for about five minutes).
const access = proxyActivities<{ authorize: typeof authorize; verifyServiceRequest: typeof verifyServiceRequest }>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '20s', maximumAttempts: 20, nonRetryableErrorTypes: [...ACCESS_REFUSALS] },
});

type WriteKind = 'grant' | 'reserve' | 'commit' | 'release';

/** Throws an Unauthorized ledger failure unless the write is signed by someone allowed to make it. */
async function checkSigned(state: LedgerState, kind: WriteKind, req: unknown): Promise<void> {
  // The signature covers the ledger's dataset and analyst too: a write signed for one ledger does
  // not verify on another.
  const request: Record<string, unknown> = { ...(req as Record<string, unknown>), dataset: state.dataset, analyst: state.analyst };
  const signer = (request.auth as { principal?: unknown } | undefined)?.principal;
  try {
    if (kind === 'grant' && signer !== SERVICE_PRINCIPAL) {
      await access.authorize({ action: 'grant', request });
    } else if (kind === 'grant' && state.analyst !== TWIN_ANALYST) {
      throw ledgerFailure(LedgerErrorType.Unauthorized, `the service funds only the synthetic twin's ledger; a budget for ${state.analyst} is set by the dataset's owner`);
    } else {
      // Grants are signed as 'grant' whoever signs them; the service's other writes as 'ledger.<kind>'.
      await access.verifyServiceRequest({ action: kind === 'grant' ? 'grant' : `ledger.${kind}`, request });
    }
  } catch (err) {
    if (err instanceof ActivityFailure && err.cause instanceof ApplicationFailure) throw ledgerFailure(LedgerErrorType.Unauthorized, err.cause.message);
    throw err;
  }
}

/** Workflow time, deterministic on replay. */
function now(): string {
  return new Date().toISOString();
}

export async function privacyLedger(input: LedgerInput): Promise<void> {
  const state = input.state ?? emptyLedgerState(input.dataset, input.analyst);
  const continueAsNewAfter = input.continueAsNewAfter ?? DEFAULT_CONTINUE_AS_NEW_AFTER;
  let updatesThisRun = 0;

  // Each handler counts itself, has the signature checked, then applies synchronously: no other
  // Update interleaves between the rules' final check and the mutation.
  const signedWrite =
    <Req, Res>(kind: WriteKind, apply: (s: typeof state, req: Req, at: string) => Res) =>
    async (req: Req): Promise<Res> => {
      updatesThisRun += 1;
      // Ledgers live for years: Updates a ledger accepted before writes were signed replay
      // unchecked (their history has no check to replay), every later one is checked.
      if (patched(SIGNED_WRITES_PATCH)) {
        await checkSigned(state, kind, req);
        return apply(state, req, now());
      }
      return kind === 'grant' ? (applyLegacyGrant(state, req, now()) as Res) : apply(state, req, now());
    };
  setHandler(grantUpdate, signedWrite('grant', applyGrant), { validator: (req) => void checkGrant(state, req) });
  setHandler(reserveUpdate, signedWrite('reserve', applyReserve), { validator: (req) => void checkReserve(state, req) });
  setHandler(commitUpdate, signedWrite('commit', applyCommit), { validator: (req) => void checkCommit(state, req) });
  setHandler(releaseUpdate, signedWrite('release', applyRelease), { validator: (req) => void checkRelease(state, req) });
  setHandler(balanceQuery, () => balanceOf(state));
  setHandler(reservationQuery, (jobId) => findReservation(state, jobId) ?? null);
  setHandler(stateQuery, () => state);

  await condition(() => updatesThisRun >= continueAsNewAfter || workflowInfo().continueAsNewSuggested);
  // Handlers await their signature check: continue-as-new waits for every running one to finish
  // (an unfinished Update would otherwise be dropped with the old run).
  await condition(allHandlersFinished);
  await continueAsNew<typeof privacyLedger>({ ...input, state });
}
