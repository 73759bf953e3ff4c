// What a real run of a traced function reports: counts, never rows or messages.
//
// The counts are still exact statistics of private data (a function can fail exactly on the rows
// that contain a word). Show them to the data owner, or to an analyst only through
// releaseFailureCounts (failure-release.ts), which adds calibrated noise and must be charged to
// the ledger.
import { FAILURE_KINDS, type FailureKind } from './guest-harness.ts';

export interface FailureCounts {
  count: number;
  byKind: Record<FailureKind, number>;
}

export interface TracedRunSummary {
  readonly function: { readonly name: string; readonly sha256: string };
  readonly rowsIn: number;
  readonly rowsOut: number;
  readonly failures: FailureCounts;
  /** Isolation bookkeeping, for operators: realms and WASM instances built for this run. */
  readonly realmsCreated: number;
  readonly modulesCreated: number;
  /** From the first slot to the end of the padded run. */
  readonly elapsedMs: number;
}

export function emptyFailureCounts(): FailureCounts {
  return { count: 0, byKind: Object.fromEntries(FAILURE_KINDS.map((k) => [k, 0])) as Record<FailureKind, number> };
}
