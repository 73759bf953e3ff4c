// The budget ledger's truth: append-only records in S3, written only by Veil's workers. Record n of
// a (dataset, analyst) ledger holds the whole state after the n-th change, the request that made
// it, and an HMAC under the service key chained to record n−1, so a record written by anyone
// without the key (or an old record copied over) fails verification. Appending is create-only
// (If-None-Match): two writers that read the same state race for the same key and only one wins;
// the loser re-reads and applies its change again. Temporal only ever carries keys and results:
// terminating, resetting or forging a workflow cannot touch these records.
import { createHmac, randomInt, timingSafeEqual } from 'node:crypto';
import canonicalize from 'canonicalize';
import { LedgerErrorType, ledgerFailure, type LedgerState } from '../../contracts/ledger.ts';
import { serviceSecret } from '../../infra/access/index.ts';
import { ObjectExistsError, ledgerPrefix, ledgerRecordKey, type ArtifactStore } from '../../infra/storage/index.ts';
import { emptyLedgerState } from './rules.ts';

const FORMAT = 'veil-ledger/1';
/** Enough for hundreds of writers racing on one ledger; each lost race costs one list and one read. */
const MAX_APPEND_ATTEMPTS = 400;

export type LedgerChange = 'grant' | 'reserve' | 'commit' | 'release';

interface LedgerRecord {
  format: typeof FORMAT;
  seq: number;
  at: string;
  change: LedgerChange;
  /** The request that made the change (a grant keeps the owner's signature). */
  request: unknown;
  state: LedgerState;
  /** HMAC-SHA256 (service key) of this record's other fields and the previous record's mac. */
  mac: string;
}

export interface LedgerHead {
  seq: number;
  state: LedgerState;
  mac: string;
}

function macOf(secret: string, record: Omit<LedgerRecord, 'mac'>, previousMac: string): string {
  return createHmac('sha256', secret).update(`${canonicalize(record)}\n${previousMac}`).digest('base64url');
}

function sameMac(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

async function readRecord(store: ArtifactStore, key: string): Promise<LedgerRecord> {
  return JSON.parse((await store.getRawBuffer(key)).toString('utf8')) as LedgerRecord;
}

/** The latest record of a ledger, verified (its mac, chained to the record before it). */
export async function readLedgerHead(store: ArtifactStore, dataset: string, analyst: string): Promise<LedgerHead> {
  const prefix = ledgerPrefix(dataset, analyst);
  const keys = (await store.listObjects(`${prefix}/`)).map((o) => o.key).filter((k) => /\/\d{12}\.json$/.test(k)).sort();
  if (keys.length === 0) return { seq: 0, state: emptyLedgerState(dataset, analyst), mac: '' };
  const secret = await serviceSecret(store);
  const last = await readRecord(store, keys[keys.length - 1]);
  const previous = keys.length > 1 ? (await readRecord(store, keys[keys.length - 2])).mac : '';
  const { mac, ...unsigned } = last;
  const expectedSeq = keys.length;
  if (last.format !== FORMAT || last.seq !== expectedSeq || !sameMac(mac, macOf(secret, unsigned, previous))) {
    throw ledgerFailure(LedgerErrorType.Corrupted, `the budget ledger of ${analyst} on ${dataset} fails its integrity check at record ${expectedSeq}: it was not written by Veil's workers`);
  }
  if (last.state.dataset !== dataset || last.state.analyst !== analyst) {
    throw ledgerFailure(LedgerErrorType.Corrupted, `record ${expectedSeq} of the ledger of ${analyst} on ${dataset} belongs to another ledger`);
  }
  return { seq: last.seq, state: last.state, mac };
}

/**
 * Applies `change` to the latest state and appends the result, retrying when another writer
 * appended first. `apply` mutates the state it is given and returns its answer; it throws a
 * refusal (a ledgerFailure) to append nothing, and returns `{ noop: true }` when the request
 * repeats one already applied.
 */
export async function appendToLedger<R>(
  store: ArtifactStore,
  key: { dataset: string; analyst: string },
  change: LedgerChange,
  request: unknown,
  apply: (state: LedgerState, at: string) => { result: R; noop: boolean },
): Promise<R> {
  const secret = await serviceSecret(store);
  const prefix = ledgerPrefix(key.dataset, key.analyst);
  for (let attempt = 1; attempt <= MAX_APPEND_ATTEMPTS; attempt++) {
    const head = await readLedgerHead(store, key.dataset, key.analyst);
    const state = structuredClone(head.state);
    const at = new Date().toISOString();
    const { result, noop } = apply(state, at);
    if (noop) return result;
    const unsigned = { format: FORMAT, seq: head.seq + 1, at, change, request, state } as const;
    try {
      await store.putJsonImmutable(ledgerRecordKey(prefix, head.seq + 1), { ...unsigned, mac: macOf(secret, unsigned, head.mac) });
      return result;
    } catch (err) {
      if (!(err instanceof ObjectExistsError)) throw err;
      // Lost the race for this record: back off a little (spread, so the losers do not collide again).
      await new Promise((resolve) => setTimeout(resolve, randomInt(1, 5 + Math.min(attempt, 50) * 2)));
    }
  }
  throw new Error(`the budget ledger of ${key.analyst} on ${key.dataset} is too contended: ${MAX_APPEND_ATTEMPTS} attempts to append failed`);
}
