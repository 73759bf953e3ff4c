// The privacy-budget ledger's data: what the data owner granted one analyst on one dataset, and
// every job's reservation against it. Plain JSON so the whole state travels through
// continue-as-new and Query results unchanged.

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

/** The entity workflow's input; `state` is only passed by continue-as-new. */
export interface LedgerInput {
  dataset: string;
  analyst: string;
  state?: LedgerState;
  /**
   * Continue-as-new after this many accepted Updates in one run (default 500; the server refuses
   * more than 2,000 Updates per run). Tests set it small to exercise continue-as-new.
   */
  continueAsNewAfter?: number;
}

/**
 * Who sent a write: a data owner's signature for grants, the service's for reserve, commit and
 * release (see infra/access). The ledger has an activity check it before the write applies.
 */
export interface LedgerAuth {
  principal: string;
  signature: string;
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
