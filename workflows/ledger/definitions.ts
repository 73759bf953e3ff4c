// The ledger's public surface: workflow type, id scheme, Update and Query definitions. Shared by the
// entity workflow and clients/sdk/ledger.ts so names and argument types cannot drift apart.
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type {
  CommitRequest,
  GrantRequest,
  LedgerBalance,
  LedgerState,
  ReleaseRequest,
  Reservation,
  ReserveRequest,
} from './types.ts';

/** The entity workflow's type name (the exported function in ./workflow.ts). */
export const LEDGER_WORKFLOW_TYPE = 'privacyLedger';

/** The owner sets (raises or lowers) the analyst's budget on the dataset; returns the new balance. */
export const grantUpdate = defineUpdate<LedgerBalance, [GrantRequest]>('grant');
/** Holds budget for a job before it touches data; idempotent by job id. */
export const reserveUpdate = defineUpdate<Reservation, [ReserveRequest]>('reserve');
/** Charges a job what it actually spent (≤ its reservation); idempotent. */
export const commitUpdate = defineUpdate<Reservation, [CommitRequest]>('commit');
/** Returns a reservation to the budget; only for a job that never touched data. Idempotent. */
export const releaseUpdate = defineUpdate<Reservation, [ReleaseRequest]>('release');

export const balanceQuery = defineQuery<LedgerBalance>('balance');
/** One job's reservation, or null when the ledger has never seen the job id. */
export const reservationQuery = defineQuery<Reservation | null, [string]>('reservation');
/** The whole state (grant and every reservation), for audits and debugging. */
export const stateQuery = defineQuery<LedgerState>('state');

/**
 * Percent-encodes every character outside [A-Za-z0-9._@-] (including '/' and '%'), so the mapping
 * from (dataset, analyst) to workflow id is one-to-one: "a/b" and "a_b" never share a ledger.
 */
export function sanitizeIdPart(part: string): string {
  if (part.length === 0) throw new TypeError('ledger names must not be empty');
  return Array.from(part, encodeIdChar).join('');
}

function encodeIdChar(ch: string): string {
  if (/^[A-Za-z0-9._@-]$/.test(ch)) return ch;
  // encodeURIComponent gives UTF-8 %XX but leaves !~*'() alone (all ASCII: encode them by hand).
  const encoded = encodeURIComponent(ch);
  return encoded.startsWith('%') ? encoded : `%${ch.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`;
}

/** The one workflow id of the (dataset, analyst) ledger: `ledger/<dataset>/<analyst>`. */
export function ledgerWorkflowId(dataset: string, analyst: string): string {
  return `ledger/${sanitizeIdPart(dataset)}/${sanitizeIdPart(analyst)}`;
}
