// Keyed pseudonyms for the jobs' search attributes. Anyone who reaches the Temporal frontend reads
// every workflow list, so an analyst's or a dataset's name there would say who trains on what. The
// list holds HMAC-SHA256 under the service key (which only workers and operators hold) of the
// name, truncated: stable, so a filter finds all of one analyst's jobs, and unlinkable to the
// name without the key. Names are domain-separated so an analyst and a dataset of the same name
// get different pseudonyms.
import { createHmac } from 'node:crypto';
import { serviceSecret } from '../../infra/access/index.ts';
import { sharedStore } from '../shared/resources.ts';

/** 16 hex digits (64 bits): collisions among a deployment's names are negligible. */
export const PSEUDONYM_HEX_DIGITS = 16;

export type PseudonymKind = 'analyst' | 'dataset';

/** The pseudonym of `name` under `secret` (pure; tests call it with their own secret). */
export function pseudonymOf(secret: string, kind: PseudonymKind, name: string): string {
  return createHmac('sha256', secret).update(`veil-search-attribute\n${kind}\n${name}`).digest('hex').slice(0, PSEUDONYM_HEX_DIGITS);
}

export interface JobPseudonyms {
  analyst: string;
  dataset: string;
}

/** The fine-tune's search-attribute values: pseudonyms of its (verified) analyst and its dataset. */
export async function jobSearchPseudonyms(input: { analyst: string; dataset: string }): Promise<JobPseudonyms> {
  const secret = await serviceSecret(await sharedStore());
  return { analyst: pseudonymOf(secret, 'analyst', input.analyst), dataset: pseudonymOf(secret, 'dataset', input.dataset) };
}
