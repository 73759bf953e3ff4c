// The ledger's rules as pure, synchronous functions over LedgerState: `check*` decides whether a
// request is acceptable (throws a ledgerFailure if not, mutates nothing), `apply*` checks again and
// then mutates. The ledger (ledger.ts) applies them to the latest record and appends the result as
// the next record, create-only: two writers that raced on the same state cannot both append, so a
// reservation is atomic.
//
// Floating point: amounts are plain numbers and totals are summed in insertion order, so ten jobs
// of ε=0.1 sum to 0.9999999999999999 or 1.0000000000000002 depending on the values. A request fits
// when used + requested ≤ granted × (1 + 1e-9); the possible over-spend is a billionth of the grant,
// far below any accountant's precision. Reported numbers are rounded to 12 significant digits,
// and a remainder within that tolerance is reported as 0.
import { LedgerErrorType, ledgerFailure, type GrantRequest, type LedgerBalance, type LedgerState, type PrivacyAmount, type Reservation, type ReserveRequest } from '../../contracts/ledger.ts';

const RELATIVE_TOLERANCE = 1e-9;
const MAX_JOB_ID_LENGTH = 256;

/** A job's reservation; own properties only, so job ids like "constructor" are just ids. */
export function findReservation(state: LedgerState, jobId: string): Reservation | undefined {
  return Object.hasOwn(state.reservations, jobId) ? state.reservations[jobId] : undefined;
}

function storeReservation(state: LedgerState, reservation: Reservation): void {
  // defineProperty, not assignment: `reservations["__proto__"] = r` would replace the prototype.
  Object.defineProperty(state.reservations, reservation.jobId, { value: reservation, enumerable: true, writable: true, configurable: true });
}

export function emptyLedgerState(dataset: string, analyst: string): LedgerState {
  return { dataset, analyst, grant: { epsilon: 0, delta: 0 }, reservations: {} };
}

/** Rounds away binary floating-point noise for reporting (0.30000000000000004 → 0.3). */
export function tidy(x: number): number {
  return Number(x.toPrecision(12));
}

function atMost(value: number, limit: number): boolean {
  return value <= limit * (1 + RELATIVE_TOLERANCE);
}

/** granted − used, reported as 0 when within the tolerance (1 − 0.9999999999999999 is no budget). */
function remainingOf(granted: number, used: number): number {
  const left = granted - used;
  return left <= granted * RELATIVE_TOLERANCE ? 0 : tidy(left);
}

/** What reservations hold (state reserved) and what jobs were charged (state committed). */
export function usage(state: LedgerState): { reserved: PrivacyAmount; committed: PrivacyAmount } {
  const reserved = { epsilon: 0, delta: 0 };
  const committed = { epsilon: 0, delta: 0 };
  for (const r of Object.values(state.reservations)) {
    if (r.state === 'reserved') {
      reserved.epsilon += r.epsilon;
      reserved.delta += r.delta;
    } else if (r.state === 'committed') {
      committed.epsilon += r.epsilonSpent ?? r.epsilon;
      committed.delta += r.deltaSpent ?? r.delta;
    }
  }
  return { reserved, committed };
}

export function balanceOf(state: LedgerState): LedgerBalance {
  const { reserved, committed } = usage(state);
  const counts = { total: 0, reserved: 0, committed: 0, released: 0 };
  for (const r of Object.values(state.reservations)) {
    counts.total += 1;
    counts[r.state] += 1;
  }
  return {
    dataset: state.dataset,
    analyst: state.analyst,
    granted: { epsilon: tidy(state.grant.epsilon), delta: tidy(state.grant.delta) },
    reserved: { epsilon: tidy(reserved.epsilon), delta: tidy(reserved.delta) },
    committed: { epsilon: tidy(committed.epsilon), delta: tidy(committed.delta) },
    remaining: {
      epsilon: remainingOf(state.grant.epsilon, reserved.epsilon + committed.epsilon),
      delta: remainingOf(state.grant.delta, reserved.delta + committed.delta),
    },
    reservations: counts,
  };
}

// ---- input shape -------------------------------------------------------------------------------
// Arguments arrive as JSON, so NaN and ±Infinity arrive as null: every number is checked here.

function invalid(message: string): never {
  throw ledgerFailure(LedgerErrorType.InvalidArgument, message);
}

function requireObject(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) invalid(`${what} must be an object`);
  return value as Record<string, unknown>;
}

function requireJobId(value: unknown): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_JOB_ID_LENGTH) {
    invalid(`jobId must be a non-empty string of at most ${MAX_JOB_ID_LENGTH} characters (got ${JSON.stringify(value)})`);
  }
  return value;
}

function requireNumber(value: unknown, name: string, range: { min: number; minExclusive?: boolean; maxExclusive?: number }): number {
  if (value === 'unlimited') {
    invalid(`${name} 'unlimited' is not accepted: the ledger tracks finite budgets only; unlimited (non-DP) jobs are authorized by the privileged-role policy, not reserved here`);
  }
  const ok =
    typeof value === 'number' &&
    Number.isFinite(value) &&
    (range.minExclusive ? value > range.min : value >= range.min) &&
    (range.maxExclusive === undefined || value < range.maxExclusive);
  if (!ok) {
    const bounds = `${range.minExclusive ? '>' : '≥'} ${range.min}${range.maxExclusive === undefined ? '' : ` and < ${range.maxExclusive}`}`;
    invalid(`${name} must be a finite number ${bounds} (got ${JSON.stringify(value) ?? String(value)}; NaN and Infinity arrive as null)`);
  }
  return value;
}

const epsilonRange = { min: 0, minExclusive: true };
const deltaRange = { min: 0, maxExclusive: 1 };

// ---- grant ---------------------------------------------------------------------------------------

/** Checks a grant; `noop` when it repeats the grant in force (same issuedAt and amounts). */
export function checkGrant(state: LedgerState, request: unknown): { grant: GrantRequest; noop: boolean } {
  const req = requireObject(request, 'grant request');
  // ε = 0 is a valid grant: it revokes whatever is not yet used.
  const epsilon = requireNumber(req.epsilon, 'epsilon', { min: 0 });
  const delta = requireNumber(req.delta, 'delta', deltaRange);
  if (typeof req.issuedAt !== 'number' || !Number.isSafeInteger(req.issuedAt) || req.issuedAt <= 0) {
    invalid(`issuedAt must be the time the owner signed the grant, in ms since the epoch (got ${JSON.stringify(req.issuedAt)})`);
  }
  const issuedAt = req.issuedAt;
  const last = state.grantIssuedAt;
  if (last !== undefined && issuedAt <= last) {
    if (issuedAt === last && sameAmounts(state.grant, { epsilon, delta })) return { grant: { epsilon, delta, issuedAt }, noop: true };
    throw ledgerFailure(
      LedgerErrorType.StaleGrant,
      `a grant issued at ${new Date(issuedAt).toISOString()} is not newer than the grant in force (issued ${new Date(last).toISOString()}): sign a new grant`,
      { issuedAt, inForce: last },
    );
  }
  const { reserved, committed } = usage(state);
  const used = { epsilon: reserved.epsilon + committed.epsilon, delta: reserved.delta + committed.delta };
  if (!atMost(used.epsilon, epsilon) || !atMost(used.delta, delta)) {
    throw ledgerFailure(
      LedgerErrorType.GrantBelowUsage,
      `cannot set the grant of analyst ${state.analyst} on dataset ${state.dataset} to ε=${tidy(epsilon)}, δ=${tidy(delta)}: ` +
        `ε=${tidy(used.epsilon)}, δ=${tidy(used.delta)} is already committed or reserved`,
      { requested: { epsilon, delta }, used },
    );
  }
  return { grant: { epsilon, delta, issuedAt }, noop: false };
}

export function applyGrant(state: LedgerState, request: unknown, now: string): LedgerBalance {
  const { grant, noop } = checkGrant(state, request);
  if (!noop) {
    state.grant = { epsilon: grant.epsilon, delta: grant.delta };
    state.grantIssuedAt = grant.issuedAt;
    state.grantedAt = now;
  }
  return balanceOf(state);
}

// ---- reserve -------------------------------------------------------------------------------------

function sameAmounts(a: { epsilon: number; delta: number }, b: { epsilon: number; delta: number }): boolean {
  return a.epsilon === b.epsilon && a.delta === b.delta;
}

/** Returns the existing reservation when the request repeats one (idempotent), else undefined. */
export function checkReserve(state: LedgerState, request: unknown): { req: ReserveRequest; existing?: Reservation } {
  const raw = requireObject(request, 'reserve request');
  const req: ReserveRequest = {
    jobId: requireJobId(raw.jobId),
    epsilon: requireNumber(raw.epsilon, 'epsilon', epsilonRange),
    delta: requireNumber(raw.delta, 'delta', deltaRange),
  };
  const existing = findReservation(state, req.jobId);
  if (existing !== undefined) {
    if (sameAmounts(existing, req)) return { req, existing };
    throw ledgerFailure(
      LedgerErrorType.ReservationConflict,
      `job ${req.jobId} already reserved ε=${existing.epsilon}, δ=${existing.delta} (now ${existing.state}); ` +
        `a reservation of ε=${req.epsilon}, δ=${req.delta} under the same job id conflicts`,
      { existing, requested: req },
    );
  }
  const { reserved, committed } = usage(state);
  for (const key of ['epsilon', 'delta'] as const) {
    if (!atMost(reserved[key] + committed[key] + req[key], state.grant[key])) {
      throw ledgerFailure(LedgerErrorType.BudgetExhausted, exhaustedMessage(state, req, key), {
        jobId: req.jobId,
        requested: { epsilon: req.epsilon, delta: req.delta },
        remaining: balanceOf(state).remaining,
        granted: state.grant,
      });
    }
  }
  return { req };
}

/** Where a job's δ comes from, in each of the ways a fine-tune is asked for. */
export const PER_JOB_DELTA_HINT =
  'each fine-tune takes δ=1/N^1.1 of its training rows unless it names one: ask for a smaller δ per job ' +
  "(`veil finetune --delta` or `veil schedule create --delta`, training.delta in a fineTune input, delta in the SDK's client.eval(model, { targetEpsilon, delta })), " +
  "or ask the dataset's owner for a larger δ";

/**
 * A refusal that helps: what ran out, what remains of both ε and δ (balances are no secret: no
 * private count is in them), and, when δ ran out, how to ask for less. Callers prefix their own
 * "budget exhausted", so the message does not.
 */
function exhaustedMessage(state: LedgerState, req: ReserveRequest, short: 'epsilon' | 'delta'): string {
  const remaining = balanceOf(state).remaining;
  const symbol = { epsilon: 'ε', delta: 'δ' } as const;
  const other = short === 'epsilon' ? 'delta' : 'epsilon';
  const head =
    `requested ${symbol[short]}=${tidy(req[short])} but only ${symbol[short]}=${remaining[short]} remains of ${tidy(state.grant[short])} ` +
    `for analyst ${state.analyst} on dataset ${state.dataset} (${symbol[other]}=${remaining[other]} remains of ${tidy(state.grant[other])})`;
  return short === 'delta' ? `${head}; ${PER_JOB_DELTA_HINT}` : head;
}

export function applyReserve(state: LedgerState, request: unknown, now: string): Reservation {
  const { req, existing } = checkReserve(state, request);
  if (existing !== undefined) return existing;
  const reservation: Reservation = { jobId: req.jobId, epsilon: req.epsilon, delta: req.delta, state: 'reserved', at: now };
  storeReservation(state, reservation);
  return reservation;
}

// ---- commit / release ----------------------------------------------------------------------------

function knownJob(state: LedgerState, jobId: string): Reservation {
  const existing = findReservation(state, jobId);
  if (existing === undefined) {
    throw ledgerFailure(LedgerErrorType.UnknownJob, `job ${jobId} has no reservation for analyst ${state.analyst} on dataset ${state.dataset}`, { jobId });
  }
  return existing;
}

/** Returns the charge to record, or `noop` when the same commit was already applied. */
export function checkCommit(state: LedgerState, request: unknown): { reservation: Reservation; charge: PrivacyAmount; noop: boolean } {
  const raw = requireObject(request, 'commit request');
  const jobId = requireJobId(raw.jobId);
  // 0 is a valid charge: a job that read the data but ran no noisy step spent nothing.
  const epsilonSpent = requireNumber(raw.epsilonSpent, 'epsilonSpent', { min: 0 });
  const deltaSpent = raw.deltaSpent === undefined ? undefined : requireNumber(raw.deltaSpent, 'deltaSpent', deltaRange);
  const reservation = knownJob(state, jobId);
  const charge = {
    epsilon: Math.min(epsilonSpent, reservation.epsilon),
    delta: Math.min(deltaSpent ?? reservation.delta, reservation.delta),
  };
  if (reservation.state === 'released') {
    throw ledgerFailure(LedgerErrorType.InvalidTransition, `job ${jobId} was released (it never touched data) and cannot be charged`, { reservation });
  }
  if (reservation.state === 'committed') {
    if (reservation.epsilonSpent === charge.epsilon && reservation.deltaSpent === charge.delta) return { reservation, charge, noop: true };
    throw ledgerFailure(
      LedgerErrorType.ReservationConflict,
      `job ${jobId} was already charged ε=${reservation.epsilonSpent}, δ=${reservation.deltaSpent}; a second charge of ε=${epsilonSpent}, δ=${deltaSpent ?? reservation.delta} conflicts`,
      { reservation, requested: { epsilonSpent, deltaSpent } },
    );
  }
  if (!atMost(epsilonSpent, reservation.epsilon) || (deltaSpent !== undefined && !atMost(deltaSpent, reservation.delta))) {
    throw ledgerFailure(
      LedgerErrorType.ExceedsReservation,
      `job ${jobId} reserved ε=${reservation.epsilon}, δ=${reservation.delta} but tried to commit ε=${epsilonSpent}, δ=${deltaSpent ?? reservation.delta}`,
      { reservation, requested: { epsilonSpent, deltaSpent } },
    );
  }
  return { reservation, charge, noop: false };
}

export function applyCommit(state: LedgerState, request: unknown, now: string): Reservation {
  const { reservation, charge, noop } = checkCommit(state, request);
  if (noop) return reservation;
  reservation.state = 'committed';
  reservation.epsilonSpent = charge.epsilon;
  reservation.deltaSpent = charge.delta;
  reservation.settledAt = now;
  return reservation;
}

export function checkRelease(state: LedgerState, request: unknown): { reservation: Reservation; noop: boolean } {
  const raw = requireObject(request, 'release request');
  const reservation = knownJob(state, requireJobId(raw.jobId));
  if (reservation.state === 'committed') {
    throw ledgerFailure(
      LedgerErrorType.InvalidTransition,
      `job ${reservation.jobId} is committed (it touched data) and keeps its charge of ε=${reservation.epsilonSpent}; it cannot be released`,
      { reservation },
    );
  }
  return { reservation, noop: reservation.state === 'released' };
}

export function applyRelease(state: LedgerState, request: unknown, now: string): Reservation {
  const { reservation, noop } = checkRelease(state, request);
  if (noop) return reservation;
  reservation.state = 'released';
  reservation.settledAt = now;
  return reservation;
}
