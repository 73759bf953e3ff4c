// Reading the catalog through Veil's workers (workflow `catalog`): the dataset list, one version's
// description, the synthetic preview rows. Each read is signed with the caller's token; nothing
// here needs S3 credentials.
import { randomUUID } from 'node:crypto';
import { WorkflowFailedError, type Client } from '@temporalio/client';
import { isAccessRefusal } from '../../contracts/failures.ts';
import { signRequest } from '../../infra/access/index.ts';
import type { CatalogQuery, DatasetDescription, SyntheticRows } from '../../contracts/datasets.ts';
import { DatasetNotFoundError } from '../../activities/datasets/registry.ts';
import type { DatasetSummary } from '../../contracts/datasets.ts';
import { applicationCause } from './failures.ts';

export type { DatasetDescription, SyntheticRows };

/** Where catalog reads go and who signs them. */
export interface CatalogConnection {
  temporal: Client;
  taskQueue: string;
  token: string;
}

/** A refused read (bad or revoked token): exit code 4 in the CLI. */
export class AccessRefusedError extends Error {
  override name = 'AccessRefusedError';
  readonly exitCode = 4;
}

async function read<T>(c: CatalogConnection, query: CatalogQuery): Promise<T> {
  try {
    return (await c.temporal.workflow.execute('catalog', {
      taskQueue: c.taskQueue,
      workflowId: `catalog-${randomUUID()}`,
      args: [signRequest(c.token, 'catalog', { query })],
    })) as T;
  } catch (err) {
    if (!(err instanceof WorkflowFailedError)) throw err;
    const cause = applicationCause(err);
    if (cause?.type === 'DatasetNotFound') throw new DatasetNotFoundError(cause.message);
    if (cause && isAccessRefusal(cause.type)) throw new AccessRefusedError(cause.message);
    throw new Error(cause?.message ?? err.message, { cause: err });
  }
}

export const listDatasets = (c: CatalogConnection): Promise<DatasetSummary[]> => read(c, { kind: 'list' });

export const describeDataset = (c: CatalogConnection, name: string, version?: number): Promise<DatasetDescription> =>
  read(c, { kind: 'describe', name, ...(version === undefined ? {} : { version }) });

export const syntheticPreview = (c: CatalogConnection, name: string, version?: number): Promise<SyntheticRows> =>
  read(c, { kind: 'preview', name, ...(version === undefined ? {} : { version }) });
