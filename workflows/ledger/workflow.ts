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
// Atomicity: a workflow runs on one thread and the SDK runs each Update's validator and then the
// synchronous start of its handler before the next Update; every validator and handler here is
// fully synchronous (no await between check and mutation; see rules.ts), so 50 concurrent
// reservations see each other's effects and can never over-spend.
// Refusals are thrown from validators: a refused request never enters the workflow's history.
// Handlers run the same checks again before mutating (validators do not run on replay, and an
// interceptor that awaited between validator and handler would otherwise open a gap), so a refusal
// that ever got past a validator is recorded as a failed Update, never as a charge.
//
// Unlimited (non-DP) jobs: the ledger refuses them. It only tracks finite budgets; whether a
// privileged user may run a non-DP job is a policy the job workflow checks before ever calling the
// ledger, and such jobs are audited by their own workflow history, not here.
//
// History: the workflow continues as new after `continueAsNewAfter` Updates (default 500; the
// server allows 2,000 per run) or when the server suggests it, carrying its whole state, after
// every running handler has finished. Updates that reach the closing run are retried by the server
// on the new one. The state keeps every job id forever (that is what makes job ids idempotent):
// about 200 bytes a job, so some 10,000 jobs per (dataset, analyst) fit the 2 MB payload limit of
// continue-as-new; compacting old settled jobs is left for when a ledger gets near that.
import { allHandlersFinished, condition, continueAsNew, setHandler, workflowInfo } from '@temporalio/workflow';
import { balanceQuery, commitUpdate, grantUpdate, releaseUpdate, reservationQuery, reserveUpdate, stateQuery } from './definitions.ts';
import {
  applyCommit,
  applyGrant,
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
import type { LedgerInput } from './types.ts';

const DEFAULT_CONTINUE_AS_NEW_AFTER = 500;

/** Workflow time, deterministic on replay. */
function now(): string {
  return new Date().toISOString();
}

export async function privacyLedger(input: LedgerInput): Promise<void> {
  const state = input.state ?? emptyLedgerState(input.dataset, input.analyst);
  const continueAsNewAfter = input.continueAsNewAfter ?? DEFAULT_CONTINUE_AS_NEW_AFTER;
  let updatesThisRun = 0;

  // Each handler counts itself, then applies: all synchronous, so no other Update interleaves.
  const counted =
    <Req, Res>(apply: (s: typeof state, req: Req, at: string) => Res) =>
    (req: Req): Res => {
      updatesThisRun += 1;
      return apply(state, req, now());
    };
  setHandler(grantUpdate, counted(applyGrant), { validator: (req) => void checkGrant(state, req) });
  setHandler(reserveUpdate, counted(applyReserve), { validator: (req) => void checkReserve(state, req) });
  setHandler(commitUpdate, counted(applyCommit), { validator: (req) => void checkCommit(state, req) });
  setHandler(releaseUpdate, counted(applyRelease), { validator: (req) => void checkRelease(state, req) });
  setHandler(balanceQuery, () => balanceOf(state));
  setHandler(reservationQuery, (jobId) => findReservation(state, jobId) ?? null);
  setHandler(stateQuery, () => state);

  await condition(() => updatesThisRun >= continueAsNewAfter || workflowInfo().continueAsNewSuggested);
  // Handlers are synchronous so this holds at once today; it keeps continue-as-new safe if one
  // ever awaits (an unfinished Update would otherwise be dropped with the old run).
  await condition(allHandlersFinished);
  await continueAsNew<typeof privacyLedger>({ ...input, state });
}
