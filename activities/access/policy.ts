// Who may do what: Veil's access rules as one pure function, so they can be read (and tested) in
// one place. The activity in authorize.ts first proves who is asking (the signature), then asks
// this function whether they may.
import { FORBIDDEN } from '../../contracts/access.ts';
import type { Principal } from '../../infra/access/index.ts';

/** Every action a signed request can ask for; the name is part of what is signed. */
export const ACTIONS = ['fineTune', 'sample', 'ingestDataset', 'upload', 'grant', 'catalog'] as const;
export type Action = (typeof ACTIONS)[number];

/** What the rules need to know besides the principal (read from S3 by the activity). */
export interface AccessFacts {
  /** The dataset's owner, when the request names a dataset that has one. */
  datasetOwner?: string;
  /** For grants: the analyst who would receive the budget. */
  grantee?: Principal;
}

/** A refusal: `kind` is the failure type the workflow reports (never retried). */
export interface Refusal {
  kind: typeof FORBIDDEN;
  message: string;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

function targetEpsilonOf(request: Record<string, unknown>): unknown {
  const training = request.training;
  return typeof training === 'object' && training !== null ? (training as Record<string, unknown>).targetEpsilon : undefined;
}

/**
 * The rules:
 * - owners upload and ingest datasets (a new name becomes theirs; a name another owner holds is refused) and
 *   set analysts' budgets on the datasets they own;
 * - analysts fine-tune and sample, only as themselves, and only privileged analysts without DP;
 * - any active principal may list datasets and read their synthetic previews.
 */
export function decide(principal: Principal, action: Action, request: Record<string, unknown>, facts: AccessFacts): Refusal | null {
  const refuse = (message: string): Refusal => ({ kind: FORBIDDEN, message });
  const who = `${principal.role} ${principal.id}`;
  switch (action) {
    case 'catalog':
      return null;
    case 'upload':
    case 'ingestDataset': {
      if (principal.role !== 'owner') return refuse(`${who} may not add datasets: only data owners may`);
      if (facts.datasetOwner !== undefined && facts.datasetOwner !== principal.id) {
        return refuse(`dataset "${str(request.name)}" belongs to another data owner: ${principal.id} may not add versions to it`);
      }
      return null;
    }
    case 'grant': {
      if (principal.role !== 'owner') return refuse(`${who} may not set budgets: only the dataset's owner may`);
      if (facts.datasetOwner !== principal.id) return refuse(`${principal.id} does not own dataset "${str(request.dataset)}": only its owner sets budgets on it`);
      const grantee = facts.grantee;
      if (!grantee || grantee.role !== 'analyst') return refuse(`"${str(request.analyst)}" is not an analyst: budgets are granted to analysts`);
      if (grantee.revokedAt) return refuse(`analyst ${grantee.id} was revoked`);
      return null;
    }
    case 'fineTune':
    case 'sample': {
      if (principal.role !== 'analyst') return refuse(`${who} may not ${action === 'sample' ? 'sample models' : 'fine-tune'}: only analysts may`);
      if (str(request.analyst) !== principal.id) return refuse(`${principal.id} may only run jobs as itself (the request names analyst "${str(request.analyst)}")`);
      const unlimited = action === 'fineTune' ? targetEpsilonOf(request) === 'unlimited' : request.maxEpsilon === 'unlimited';
      if (unlimited && !principal.privileged) {
        return refuse(`analyst ${principal.id} may not ${action === 'fineTune' ? 'train' : 'sample'} without differential privacy ('unlimited' is for privileged analysts)`);
      }
      return null;
    }
  }
}
