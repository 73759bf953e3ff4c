// Choosing an accountant by name, and restoring one from its checkpointed JSON state.
import { PrivacyInputError } from './errors.ts';
import { PrvAccountant, type PrvAccountantState, type PrvOptions } from './prv-accountant.ts';
import { RdpAccountant, type RdpAccountantState } from './rdp-accountant.ts';
import type { AccountantKind } from './calibrate.ts';

export type PrivacyAccountant = RdpAccountant | PrvAccountant;
export type AccountantState = RdpAccountantState | PrvAccountantState;

export const ACCOUNTANT_KINDS: readonly AccountantKind[] = ['rdp', 'prv'];

/** 'rdp' or 'prv'; 'pld' (the other tight accountant the issue allowed) is not built and says so. */
export function parseAccountantKind(raw: unknown, argument = 'accountant'): AccountantKind {
  if (raw === 'rdp' || raw === 'prv') return raw;
  if (raw === 'pld') {
    throw new PrivacyInputError(argument, "'rdp' or 'prv'",
      "'pld' is not available: Veil's tight accountant is 'prv' (privacy loss random variables, Gopi et al. 2021, as in Opacus and prv_accountant); use 'prv', or 'rdp' for Opacus's RDP numbers");
  }
  throw new PrivacyInputError(argument, "'rdp' or 'prv'", `must be 'rdp' or 'prv', got ${raw === undefined ? 'nothing' : JSON.stringify(raw)}`);
}

export function createAccountant(kind: AccountantKind, options: { prv?: PrvOptions } = {}): PrivacyAccountant {
  return kind === 'rdp' ? new RdpAccountant() : new PrvAccountant(options.prv);
}

/** Restores an accountant from `toJSON()` output (e.g. read back from a checkpoint). */
export function accountantFromJSON(raw: unknown): PrivacyAccountant {
  if (typeof raw !== 'object' || raw === null) throw new PrivacyInputError('state', 'an object', 'must be an accountant state object');
  const kind = (raw as { accountant?: unknown }).accountant;
  if (kind === 'rdp') return RdpAccountant.fromJSON(raw);
  if (kind === 'prv') return PrvAccountant.fromJSON(raw);
  throw new PrivacyInputError('state.accountant', "'rdp' or 'prv'", `must be 'rdp' or 'prv', got ${JSON.stringify(kind)}`);
}
