// Typed client for the privacy-budget ledger (workflows/ledger/). Every write is an
// Update-with-Start: the (dataset, analyst) ledger workflow is created on first use and reused
// afterwards, and the Update's validator answers before anything is written. Refusals surface as
// LedgerError with a machine-readable `code` (see LedgerErrorType).
//
// Every write is signed (see infra/access): a grant by the dataset owner's token (`tokenSigner`),
// reserve, commit and release by Veil's service (only workers hold its key). The signature covers
// the ledger's dataset and analyst and the whole request, and the token itself is never sent.
import {
  WithStartWorkflowOperation,
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  type Client,
} from '@temporalio/client';
import { ApplicationFailure, type UpdateDefinition } from '@temporalio/common';
import { TASK_QUEUE } from '../../infra/config.ts';
import { parseToken, signPayload } from '../../infra/access/index.ts';
import {
  LEDGER_WORKFLOW_TYPE,
  balanceQuery,
  commitUpdate,
  grantUpdate,
  ledgerWorkflowId,
  releaseUpdate,
  reservationQuery,
  reserveUpdate,
} from '../../workflows/ledger/definitions.ts';
import { LedgerErrorType } from '../../workflows/ledger/errors.ts';
import { balanceOf, emptyLedgerState } from '../../workflows/ledger/rules.ts';
import type { LedgerAuth, LedgerBalance, LedgerInput, Reservation } from '../../workflows/ledger/types.ts';
import type { privacyLedger } from '../../workflows/ledger/workflow.ts';

export { LedgerErrorType, ledgerWorkflowId };
export type { LedgerBalance, Reservation };

export interface LedgerCallOptions {
  /** Task queue the ledger workflow runs on (default 'veil'). */
  taskQueue?: string;
  /** Only used when this call creates the ledger: continue-as-new after this many Updates. */
  continueAsNewAfter?: number;
}

/** Signs one ledger write: `action` and the payload (the request plus the ledger's dataset and analyst). */
export type LedgerSigner = (action: string, payload: Record<string, unknown>) => LedgerAuth | Promise<LedgerAuth>;

export interface SignedCallOptions extends LedgerCallOptions {
  signer: LedgerSigner;
}

/** A signer for a principal's token (a data owner's, for grants). */
export function tokenSigner(token: string): LedgerSigner {
  const { principal, secret } = parseToken(token);
  return (action, payload) => ({ principal, signature: signPayload(secret, action, payload) });
}

let lastIssuedAt = 0;
/** Milliseconds since the epoch, strictly increasing within this process (grants are ordered by it). */
function nextIssuedAt(): number {
  lastIssuedAt = Math.max(Date.now(), lastIssuedAt + 1);
  return lastIssuedAt;
}

export interface LedgerKey {
  dataset: string;
  analyst: string;
}

/** A refusal by the ledger (or a ledger that can no longer be written to). */
export class LedgerError extends Error {
  override name = 'LedgerError';
  constructor(
    readonly code: LedgerErrorType,
    message: string,
    readonly details?: unknown,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

const knownCodes = new Set<string>(Object.values(LedgerErrorType));

function toLedgerError(err: unknown, workflowId: string): unknown {
  if (err instanceof WorkflowUpdateFailedError && err.cause instanceof ApplicationFailure && knownCodes.has(err.cause.type ?? '')) {
    return new LedgerError(err.cause.type as LedgerErrorType, err.cause.message, err.cause.details?.[0], { cause: err });
  }
  if (err instanceof WorkflowExecutionAlreadyStartedError) {
    // The ledger's id is never reused: a closed ledger restarted empty would forget every charge.
    return new LedgerError(
      LedgerErrorType.LedgerClosed,
      `ledger ${workflowId} is closed (terminated or failed); it is not recreated because a new ledger would forget past charges`,
      undefined,
      { cause: err },
    );
  }
  return err;
}

/** NaN and ±Infinity would travel as JSON null; name them here instead of in a confusing refusal. */
function requireFinite(fields: Record<string, unknown>): void {
  for (const [name, value] of Object.entries(fields)) {
    if (typeof value === 'number' && !Number.isFinite(value)) {
      throw new LedgerError(LedgerErrorType.InvalidArgument, `${name} must be a finite number (got ${value})`);
    }
  }
}

async function updateLedger<Ret, Arg extends object>(
  client: Client,
  key: LedgerKey,
  update: UpdateDefinition<Ret, [Arg & { auth?: LedgerAuth }]>,
  arg: Arg,
  options: SignedCallOptions,
): Promise<Ret> {
  // grant is signed as the owner's 'grant' action; the service's writes as 'ledger.<update>'.
  const action = update.name === 'grant' ? 'grant' : `ledger.${update.name}`;
  const auth = await options.signer(action, { ...arg, dataset: key.dataset, analyst: key.analyst });
  const workflowId = ledgerWorkflowId(key.dataset, key.analyst);
  const input: LedgerInput = { dataset: key.dataset, analyst: key.analyst, continueAsNewAfter: options.continueAsNewAfter };
  const startWorkflowOperation = new WithStartWorkflowOperation<typeof privacyLedger>(LEDGER_WORKFLOW_TYPE, {
    workflowId,
    taskQueue: options.taskQueue ?? TASK_QUEUE,
    args: [input],
    workflowIdConflictPolicy: 'USE_EXISTING',
    workflowIdReusePolicy: 'REJECT_DUPLICATE',
  });
  try {
    return await client.workflow.executeUpdateWithStart(update, { args: [{ ...arg, auth }], startWorkflowOperation });
  } catch (err) {
    throw toLedgerError(err, workflowId);
  }
}

/** The data owner sets (raises or lowers) the analyst's (ε, δ) budget on the dataset (signed by the owner). */
export async function grantBudget(
  client: Client,
  req: LedgerKey & { epsilon: number; delta: number },
  options: SignedCallOptions,
): Promise<LedgerBalance> {
  requireFinite({ epsilon: req.epsilon, delta: req.delta });
  return updateLedger(client, req, grantUpdate, { epsilon: req.epsilon, delta: req.delta, issuedAt: nextIssuedAt() }, options);
}

/** Holds (ε, δ) for a job before it touches data. Same job id and amounts again: same reservation. */
export async function reserve(
  client: Client,
  req: LedgerKey & { jobId: string; epsilon: number; delta: number },
  options: SignedCallOptions,
): Promise<Reservation> {
  requireFinite({ epsilon: req.epsilon, delta: req.delta });
  return updateLedger(client, req, reserveUpdate, { jobId: req.jobId, epsilon: req.epsilon, delta: req.delta }, options);
}

/** Charges a job what its accountant says it spent (≤ reserved). Also for failed jobs that touched data. */
export async function commit(
  client: Client,
  req: LedgerKey & { jobId: string; epsilonSpent: number; deltaSpent?: number },
  options: SignedCallOptions,
): Promise<Reservation> {
  requireFinite({ epsilonSpent: req.epsilonSpent, deltaSpent: req.deltaSpent });
  const arg = { jobId: req.jobId, epsilonSpent: req.epsilonSpent, ...(req.deltaSpent === undefined ? {} : { deltaSpent: req.deltaSpent }) };
  return updateLedger(client, req, commitUpdate, arg, options);
}

/** Returns a job's reservation to the budget: only for a job that never touched data. */
export async function release(client: Client, req: LedgerKey & { jobId: string }, options: SignedCallOptions): Promise<Reservation> {
  return updateLedger(client, req, releaseUpdate, { jobId: req.jobId }, options);
}

/** The ledger's totals. A ledger that was never used reads as an empty grant (reading creates nothing). */
export async function balance(client: Client, key: LedgerKey): Promise<LedgerBalance> {
  try {
    return await client.workflow.getHandle(ledgerWorkflowId(key.dataset, key.analyst)).query(balanceQuery);
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return balanceOf(emptyLedgerState(key.dataset, key.analyst));
    throw err;
  }
}

/** One job's reservation, or null if the ledger never saw the job id (or does not exist yet). */
export async function getReservation(client: Client, key: LedgerKey & { jobId: string }): Promise<Reservation | null> {
  try {
    return await client.workflow.getHandle(ledgerWorkflowId(key.dataset, key.analyst)).query(reservationQuery, key.jobId);
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return null;
    throw err;
  }
}
