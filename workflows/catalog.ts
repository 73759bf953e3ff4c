// catalog: a signed read of what any principal may know about the datasets (the list, one
// version's description, the synthetic twin's preview rows), served by the workers. Clients go
// through here instead of S3, so an analyst's machine holds a token and no storage credentials.
import { proxyActivities } from '@temporalio/workflow';
import type { LightActivities } from '../activities/index.ts';
import { catalogInputSchema, type CatalogAnswer } from '../contracts/datasets.ts';
import { NON_RETRYABLE } from '../contracts/failures.ts';
import { parseInput } from '../contracts/validation.ts';

const { authorize, readCatalog } = proxyActivities<LightActivities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '1s', maximumInterval: '10s', maximumAttempts: 10, nonRetryableErrorTypes: [...NON_RETRYABLE.catalog] },
});

export async function catalog(input: unknown): Promise<CatalogAnswer> {
  const { query } = parseInput('catalog', catalogInputSchema, input);
  await authorize({ action: 'catalog', request: input });
  return readCatalog(query);
}
