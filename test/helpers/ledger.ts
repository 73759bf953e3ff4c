// Budget ledgers as an operator reads them: straight from the S3 records the workers write
// (tests hold the S3 credentials), so a test checks the truth, not a workflow's answer about it.
import { readBalance, readReservation, type LedgerKey } from '../../activities/budget/ledger.ts';
import type { LedgerBalance, Reservation } from '../../contracts/ledger.ts';
import { testStore } from './storage.ts';

export async function ledgerBalance(key: LedgerKey): Promise<LedgerBalance> {
  return readBalance(await testStore(), key);
}

export async function ledgerReservation(key: LedgerKey & { jobId: string }): Promise<Reservation | null> {
  return readReservation(await testStore(), key);
}
