// The budget ledger's operations, as the workers perform them on the S3 records (ledger-log.ts):
// the owner's grant (its signature checked by the caller), a job's reserve, commit and release,
// and reads. Each write applies the pure rules (rules.ts) to the latest record; a repeated request
// (same job id, same amounts) appends nothing and answers as the first did.
import type { DatasetSpend, GrantRequest, LedgerBalance, Reservation } from '../../contracts/ledger.ts';
import { ledgerDatasetPrefix, principalOfSegment, type ArtifactStore } from '../../infra/storage/index.ts';
import { appendToLedger, readLedgerHead } from './ledger-log.ts';
import { applyCommit, applyGrant, applyRelease, applyReserve, balanceOf, checkCommit, checkGrant, checkRelease, checkReserve, findReservation, tidy } from './rules.ts';

export interface LedgerKey {
  dataset: string;
  analyst: string;
}

/** Sets the analyst's grant (the caller has checked the owner's signature on `request`). */
export function grant(store: ArtifactStore, key: LedgerKey, request: GrantRequest): Promise<LedgerBalance> {
  return appendToLedger(store, key, 'grant', request, (state, at) => {
    const { noop } = checkGrant(state, request);
    return { result: noop ? balanceOf(state) : applyGrant(state, request, at), noop };
  });
}

/** Holds (ε, δ) for a job before it touches data; the same job id and amounts again: the same reservation. */
export function reserve(store: ArtifactStore, key: LedgerKey, request: { jobId: string; epsilon: number; delta: number }): Promise<Reservation> {
  return appendToLedger(store, key, 'reserve', request, (state, at) => {
    const { existing } = checkReserve(state, request);
    return existing ? { result: existing, noop: true } : { result: applyReserve(state, request, at), noop: false };
  });
}

/** Charges a job what its accountant says it spent (≤ reserved); also for failed jobs that touched data. */
export function commit(store: ArtifactStore, key: LedgerKey, request: { jobId: string; epsilonSpent: number; deltaSpent?: number }): Promise<Reservation> {
  return appendToLedger(store, key, 'commit', request, (state, at) => {
    const { reservation, noop } = checkCommit(state, request);
    return noop ? { result: reservation, noop } : { result: applyCommit(state, request, at), noop };
  });
}

/** Returns a reservation to the budget: only for a job that never touched data. */
export function release(store: ArtifactStore, key: LedgerKey, request: { jobId: string }): Promise<Reservation> {
  return appendToLedger(store, key, 'release', request, (state, at) => {
    const { reservation, noop } = checkRelease(state, request);
    return noop ? { result: reservation, noop } : { result: applyRelease(state, request, at), noop };
  });
}

export async function readBalance(store: ArtifactStore, key: LedgerKey): Promise<LedgerBalance> {
  return balanceOf((await readLedgerHead(store, key.dataset, key.analyst)).state);
}

export async function readReservation(store: ArtifactStore, key: LedgerKey & { jobId: string }): Promise<Reservation | null> {
  return findReservation((await readLedgerHead(store, key.dataset, key.analyst)).state, key.jobId) ?? null;
}

/**
 * The synthetic twin's release, funded and held in one record: the owner's decision to build a
 * twin is its budget, so the twin ledger's grant grows by exactly what the job reserves.
 */
export function fundAndReserve(store: ArtifactStore, key: LedgerKey, request: { jobId: string; epsilon: number; delta: number }): Promise<Reservation> {
  return appendToLedger(store, key, 'reserve', { ...request, funded: true }, (state, at) => {
    const existing = findReservation(state, request.jobId);
    if (existing) return { result: existing, noop: true };
    const granted = { epsilon: state.grant.epsilon + request.epsilon, delta: Math.min(state.grant.delta + request.delta, 0.5), issuedAt: (state.grantIssuedAt ?? 0) + 1 };
    applyGrant(state, granted, at);
    return { result: applyReserve(state, request, at), noop: false };
  });
}

/** Every ledger of a dataset (each analyst's and the synthetic twin's) and their sums. */
export async function readDatasetSpend(store: ArtifactStore, dataset: string): Promise<DatasetSpend> {
  const segments = await store.listPrefixes(ledgerDatasetPrefix(dataset));
  const ledgers = await Promise.all(
    segments.map(async (segment) => {
      const b = await readBalance(store, { dataset, analyst: principalOfSegment(segment) });
      return { analyst: b.analyst, committed: b.committed, reserved: b.reserved };
    }),
  );
  const sum = (pick: (l: (typeof ledgers)[number]) => { epsilon: number; delta: number }) =>
    ledgers.reduce((t, l) => ({ epsilon: tidy(t.epsilon + pick(l).epsilon), delta: tidy(t.delta + pick(l).delta) }), { epsilon: 0, delta: 0 });
  return { dataset, ledgers, committed: sum((l) => l.committed), reserved: sum((l) => l.reserved) };
}
