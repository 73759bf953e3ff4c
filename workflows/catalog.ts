// catalog: a signed read of what any principal may know about the datasets (the list, one
// version's description, the synthetic twin's preview rows), served by the workers. Clients go
// through here instead of S3, so an analyst's machine holds a token and no storage credentials.
import { proxyActivities } from '@temporalio/workflow';
import { z } from 'zod';
import type { LightActivities } from '../activities/index.ts';
import type { CatalogQuery } from '../activities/datasets/catalog.ts';
import { ACCESS_REFUSALS, parseInput, requestAuthSchema } from './validation.ts';

const datasetName = z.string().min(1).max(63);
export const catalogInputSchema = z.object({
  query: z.discriminatedUnion('kind', [
    z.object({ kind: z.literal('list') }).strict(),
    z.object({ kind: z.literal('describe'), name: datasetName, version: z.number().int().positive().optional() }).strict(),
    z.object({ kind: z.literal('preview'), name: datasetName, version: z.number().int().positive().optional() }).strict(),
  ]),
  auth: requestAuthSchema.optional(),
});

const { authorize, readCatalog } = proxyActivities<LightActivities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '1s', maximumInterval: '10s', maximumAttempts: 10, nonRetryableErrorTypes: [...ACCESS_REFUSALS, 'DatasetNotFound', 'InvalidInput'] },
});

export async function catalog(input: unknown): Promise<Awaited<ReturnType<LightActivities['readCatalog']>>> {
  const { query } = parseInput('catalog', catalogInputSchema, input);
  await authorize({ action: 'catalog', request: input });
  return readCatalog(query as CatalogQuery);
}
