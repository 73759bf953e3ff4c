// The client side of privacy budgets. A data owner's grant is signed with the owner's token and
// carried by the grantBudget workflow to the workers, which check the signature and append it to
// the ledger's S3 records; a balance is read through readBudgetBalance. Refusals surface as
// LedgerError with a machine-readable `code` (see LedgerErrorType).
import { randomUUID } from 'node:crypto';
import { WorkflowFailedError, type Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { isAccessRefusal } from '../../contracts/failures.ts';
import {
  DATASET_SPEND_WORKFLOW,
  GRANT_BUDGET_WORKFLOW,
  LedgerErrorType,
  READ_BUDGET_WORKFLOW,
  type BudgetReadResult,
  type DatasetSpend,
  type GrantInput,
  type LedgerAuth,
  type LedgerBalance,
  type Reservation,
} from '../../contracts/ledger.ts';
import { TASK_QUEUE } from '../../infra/config.ts';
import { signRequest } from '../../infra/access/index.ts';
import { readsClient } from './catalog.ts';

export { LedgerErrorType };
export type { LedgerBalance, Reservation };

export interface LedgerCallOptions {
  /** The light task queue (default 'veil'). */
  taskQueue?: string;
  /** Where reads run (default: VEIL_READS_NAMESPACE); grants run in the client's own namespace. */
  readsNamespace?: string;
}

/** Signs one grant: `action` and the payload (the grant with its dataset and analyst). */
export type LedgerSigner = (action: string, payload: Record<string, unknown>) => LedgerAuth | Promise<LedgerAuth>;

export interface SignedCallOptions extends LedgerCallOptions {
  signer: LedgerSigner;
}

/** A signer for a principal's token (a data owner's, for grants): a fresh nonce and expiry each time. */
export function tokenSigner(token: string): LedgerSigner {
  return (action, payload) => signRequest(token, action, payload).auth;
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

/** A refusal by the ledger (or by the access rules in front of it). */
export class LedgerError extends Error {
  override name = 'LedgerError';
  constructor(
    readonly code: string,
    message: string,
    readonly details?: unknown,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

const knownCodes = new Set<string>(Object.values(LedgerErrorType));

function toLedgerError(err: unknown): unknown {
  if (!(err instanceof WorkflowFailedError)) return err;
  let cause: unknown = err.cause;
  while (cause instanceof Error && !(cause instanceof ApplicationFailure) && cause.cause) cause = cause.cause;
  if (cause instanceof ApplicationFailure && (knownCodes.has(cause.type ?? '') || isAccessRefusal(cause.type) || cause.type === 'InvalidInput')) {
    // An owner's grant refused by the access rules is an unauthorized ledger write.
    const code = isAccessRefusal(cause.type) ? LedgerErrorType.Unauthorized : (cause.type as string);
    return new LedgerError(code, cause.message, cause.details?.[0], { cause: err });
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

/** The data owner sets (raises or lowers) the analyst's (ε, δ) budget on the dataset (signed by the owner). */
export async function grantBudget(client: Client, req: LedgerKey & { epsilon: number; delta: number }, options: SignedCallOptions): Promise<LedgerBalance> {
  requireFinite({ epsilon: req.epsilon, delta: req.delta });
  const payload = { dataset: req.dataset, analyst: req.analyst, epsilon: req.epsilon, delta: req.delta, issuedAt: nextIssuedAt() };
  const input: GrantInput = { ...payload, auth: await options.signer('grant', payload) };
  try {
    return await client.workflow.execute(GRANT_BUDGET_WORKFLOW, { taskQueue: options.taskQueue ?? TASK_QUEUE, workflowId: `grant-${randomUUID()}`, args: [input] });
  } catch (err) {
    throw toLedgerError(err);
  }
}

async function readBudget(client: Client, key: LedgerKey & { jobId?: string }, options: LedgerCallOptions): Promise<BudgetReadResult> {
  try {
    return await readsClient(client, options.readsNamespace).workflow.execute(READ_BUDGET_WORKFLOW, { taskQueue: options.taskQueue ?? TASK_QUEUE, workflowId: `budget-${randomUUID()}`, args: [key] });
  } catch (err) {
    throw toLedgerError(err);
  }
}

/** The ledger's totals (a ledger that was never used reads as an empty grant). */
export async function balance(client: Client, key: LedgerKey, options: LedgerCallOptions = {}): Promise<LedgerBalance> {
  return (await readBudget(client, { dataset: key.dataset, analyst: key.analyst }, options)).balance;
}

/** What a dataset has spent across every analyst's ledger and its synthetic twin's (for its owner's eyes, though any principal may read it). */
export async function datasetSpend(client: Client, dataset: string, options: LedgerCallOptions = {}): Promise<DatasetSpend> {
  try {
    return await readsClient(client, options.readsNamespace).workflow.execute(DATASET_SPEND_WORKFLOW, { taskQueue: options.taskQueue ?? TASK_QUEUE, workflowId: `spend-${randomUUID()}`, args: [{ dataset }] });
  } catch (err) {
    throw toLedgerError(err);
  }
}

/** One job's reservation, or null if the ledger never saw the job id. */
export async function getReservation(client: Client, key: LedgerKey & { jobId: string }, options: LedgerCallOptions = {}): Promise<Reservation | null> {
  return (await readBudget(client, key, options)).reservation;
}
