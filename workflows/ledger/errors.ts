// Why the ledger refuses a request. Validators and handlers throw these as ApplicationFailures whose
// `type` is one of LedgerErrorType, so a client can tell "budget exhausted" from "bad input" without
// parsing messages. Importable from workflow and client code alike (no Node built-ins).
import { ApplicationFailure } from '@temporalio/common';

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
  /** The write was not signed by someone allowed to make it (the dataset's owner, or Veil's service). */
  Unauthorized: 'Unauthorized',
  /** A grant issued before the grant in force: an old signed grant cannot undo a newer one. */
  StaleGrant: 'StaleGrant',
  /** Client side only: the ledger workflow was closed (terminated) and must not be silently recreated. */
  LedgerClosed: 'LedgerClosed',
} as const;
export type LedgerErrorType = (typeof LedgerErrorType)[keyof typeof LedgerErrorType];

/** A non-retryable refusal: retrying the same request cannot change the answer. */
export function ledgerFailure(type: LedgerErrorType, message: string, details?: Record<string, unknown>): ApplicationFailure {
  return ApplicationFailure.create({ type, message, nonRetryable: true, details: details === undefined ? undefined : [details] });
}
