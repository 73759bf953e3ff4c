// The privacy-budget ledger's contract: what the data owner granted one analyst on one dataset,
// every job's reservation against it, the requests that change it and why it refuses one. Plain
// JSON: the state is what each of the ledger's S3 records holds (activities/budget/ledger-log.ts).
import { ApplicationFailure } from '@temporalio/common';
import { z } from 'zod';
import { requestAuthSchema } from './access.ts';
import { datasetNameSchema, idSchema, principalIdSchema } from './ids.ts';

/** A privacy amount: ε and δ of (ε, δ)-differential privacy. */
export interface PrivacyAmount {
  epsilon: number;
  delta: number;
}

/**
 * A job's claim on the budget. `reserved`: held before training starts; `committed`: the job touched
 * the data and is charged what it actually spent (at most what it reserved); `released`: the job never
 * touched the data and its reservation went back to the budget.
 */
export type ReservationState = 'reserved' | 'committed' | 'released';

export interface Reservation {
  jobId: string;
  /** What the job reserved. */
  epsilon: number;
  delta: number;
  state: ReservationState;
  /** What the job was charged (set on commit; never above the reservation). */
  epsilonSpent?: number;
  deltaSpent?: number;
  /** Workflow time (ISO 8601) of the reservation and of its last state change. */
  at: string;
  settledAt?: string;
}

export interface LedgerState {
  dataset: string;
  analyst: string;
  /** Set by the data owner; { 0, 0 } until the first grant, so nothing can be reserved before. */
  grant: PrivacyAmount;
  grantedAt?: string;
  /** The issuedAt of the grant in force (later grants must be issued after it). */
  grantIssuedAt?: number;
  /** Every job ever seen, by job id (kept forever: it is what makes job ids idempotent). */
  reservations: Record<string, Reservation>;
}

/** The data owner's signature of a grant (see infra/access); checked before the grant applies. */
export interface LedgerAuth {
  principal: string;
  signature: string;
  nonce?: string;
  expiresAt?: number;
}

export interface GrantRequest {
  epsilon: number;
  delta: number;
  /**
   * When the owner signed the grant (ms since the epoch). The ledger applies grants in increasing
   * issuedAt only, so a signed grant seen in history cannot be replayed to undo a later one.
   */
  issuedAt: number;
  auth?: LedgerAuth;
}

export interface ReserveRequest {
  jobId: string;
  epsilon: number;
  delta: number;
  auth?: LedgerAuth;
}

export interface CommitRequest {
  jobId: string;
  /** What the job's accountant reports it spent; at most what it reserved. */
  epsilonSpent: number;
  /** Defaults to the reserved δ (DP-SGD targets a fixed δ and reports ε at that δ). */
  deltaSpent?: number;
  auth?: LedgerAuth;
}

export interface ReleaseRequest {
  jobId: string;
  auth?: LedgerAuth;
}

/** The `balance` Query's answer. remaining = granted − reserved − committed (never below 0). */
export interface LedgerBalance {
  dataset: string;
  analyst: string;
  granted: PrivacyAmount;
  /** Held by jobs that have not settled yet. */
  reserved: PrivacyAmount;
  /** Charged to jobs that touched the data. */
  committed: PrivacyAmount;
  remaining: PrivacyAmount;
  reservations: { total: number; reserved: number; committed: number; released: number };
}

/** The data owner's signed grant, as the grantBudget workflow receives it. */
export const grantInputSchema = z
  .object({
    dataset: datasetNameSchema,
    analyst: principalIdSchema,
    epsilon: z.number().finite().min(0),
    delta: z.number().min(0).lt(1),
    issuedAt: z.number().int().positive(),
    auth: requestAuthSchema.optional(),
  })
  .strict();
export type GrantInput = z.input<typeof grantInputSchema>;

/** A balance read (anyone may read one), with one job's reservation when `jobId` is given. */
export const budgetReadSchema = z.object({ dataset: datasetNameSchema, analyst: principalIdSchema, jobId: idSchema.optional() }).strict();
export type BudgetRead = z.input<typeof budgetReadSchema>;
export interface BudgetReadResult {
  balance: LedgerBalance;
  reservation: Reservation | null;
}

/** What a dataset has spent across every analyst and its synthetic twin: one ledger's totals each. */
export interface DatasetSpend {
  dataset: string;
  ledgers: { analyst: string; committed: PrivacyAmount; reserved: PrivacyAmount }[];
  /** Sums over the ledgers (basic composition: the dataset's worst case over all its releases). */
  committed: PrivacyAmount;
  reserved: PrivacyAmount;
}
export const datasetSpendSchema = z.object({ dataset: datasetNameSchema }).strict();
export const DATASET_SPEND_WORKFLOW = 'readDatasetSpend';

export const GRANT_BUDGET_WORKFLOW = 'grantBudget';
export const READ_BUDGET_WORKFLOW = 'readBudgetBalance';

export const LedgerErrorType = {
  /** Malformed request: ε or δ not a finite number in range, missing job id, 'unlimited' ε. */
  InvalidArgument: 'InvalidArgument',
  /** The reservation does not fit in what remains of the grant. */
  BudgetExhausted: 'BudgetExhausted',
  /** commit/release for a job id the ledger never reserved. */
  UnknownJob: 'UnknownJob',
  /** The job id is already known with different amounts (re-reserve or re-commit). */
  ReservationConflict: 'ReservationConflict',
  /** commit of a released job, or release of a committed one. */
  InvalidTransition: 'InvalidTransition',
  /** commit charging more than the job reserved. */
  ExceedsReservation: 'ExceedsReservation',
  /** The owner tried to lower the grant below what is already committed + reserved. */
  GrantBelowUsage: 'GrantBelowUsage',
  /** The write was not signed by someone allowed to make it (the dataset's owner). */
  Unauthorized: 'Unauthorized',
  /** A grant issued before the grant in force: an old signed grant cannot undo a newer one. */
  StaleGrant: 'StaleGrant',
  /** The ledger's records in S3 fail their integrity check (written by someone without the service key). */
  Corrupted: 'LedgerCorrupted',
} as const;
export type LedgerErrorType = (typeof LedgerErrorType)[keyof typeof LedgerErrorType];

/** Every ledger refusal type: none is worth retrying. */
export const LEDGER_REFUSALS: readonly string[] = Object.values(LedgerErrorType);

/** A non-retryable refusal: retrying the same request cannot change the answer. */
export function ledgerFailure(type: LedgerErrorType, message: string, details?: Record<string, unknown>): ApplicationFailure {
  return ApplicationFailure.create({ type, message, nonRetryable: true, details: details === undefined ? undefined : [details] });
}
