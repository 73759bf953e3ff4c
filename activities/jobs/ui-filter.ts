// The caller's own filter for the Temporal UI's workflow list. Clients do not hold the service
// key, so the workers compute the pseudonyms (pseudonyms.ts) for a signed request: the signer's
// own analyst pseudonym, and a dataset's only for its data owner (who may see every job on it).
// Anyone else asking for a dataset is refused, or the filter would tell them who trains on it.
import { ApplicationFailure } from '@temporalio/activity';
import { Failure } from '../../contracts/failures.ts';
import { serviceSecret } from '../../infra/access/index.ts';
import { requireDatasetOwner, verifySigner } from '../audit/owner-auth.ts';
import { sharedStore } from '../shared/resources.ts';
import { pseudonymOf } from './pseudonyms.ts';

/** The action a ui-filter request is signed for. */
export const UI_FILTER_ACTION = 'jobsUiFilter';

export interface UiFilterAnswer {
  /** Who signed (the filter's analyst). */
  principal: string;
  analyst: string;
  dataset: { name: string; pseudonym: string } | null;
  /** The list query to paste into the UI's search box. */
  query: string;
}

const quote = (value: string): string => `"${value}"`;

export async function jobsUiFilter(request: unknown): Promise<UiFilterAnswer> {
  if (typeof request !== 'object' || request === null) throw ApplicationFailure.nonRetryable('the request is not signed', Failure.Unauthenticated);
  const signed = request as Record<string, unknown>;
  const dataset = signed.dataset;
  if (dataset !== undefined && (typeof dataset !== 'string' || dataset.length === 0)) throw ApplicationFailure.nonRetryable('dataset must be a dataset name', Failure.InvalidInput);
  const store = await sharedStore();
  // A read: the nonce is not claimed (running it again reveals nothing new, and the answer is
  // sealed for the signer alone).
  const signer = await verifySigner(store, UI_FILTER_ACTION, signed, false);
  const secret = await serviceSecret(store);
  const analyst = pseudonymOf(secret, 'analyst', signer.id);
  if (typeof dataset !== 'string') return { principal: signer.id, analyst, dataset: null, query: `VeilAnalyst=${quote(analyst)}` };
  await requireDatasetOwner(store, signer, dataset);
  const pseudonym = pseudonymOf(secret, 'dataset', dataset);
  return { principal: signer.id, analyst, dataset: { name: dataset, pseudonym }, query: `VeilDataset=${quote(pseudonym)}` };
}
