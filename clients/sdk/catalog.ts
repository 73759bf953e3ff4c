// Reading the catalog through Veil's workers (workflow `catalog`): the dataset list, one version's
// description, the synthetic preview rows. Each read is signed with the caller's token; nothing
// here needs S3 credentials.
import { randomUUID } from 'node:crypto';
import { Client, WorkflowFailedError } from '@temporalio/client';
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
  /** The namespace of read-only requests (default: the one sendReadsTo gave `temporal`, else its own). */
  readsNamespace?: string;
}

const readsNamespaces = new WeakMap<Client, string>();
const readsClients = new WeakMap<Client, Client>();

/**
 * Sends `temporal`'s read-only requests (catalog, balances, spend, audit show, UI filter) to the
 * reads namespace, so the Temporal UI's list of the jobs' namespace holds jobs only
 * (docs/temporal-ui.md). The CLI and VeilClient.connect do this for the clients they open; a client
 * passed in from elsewhere (a test's) keeps its reads in its own namespace unless told.
 */
export function sendReadsTo(temporal: Client, namespace: string): Client {
  readsNamespaces.set(temporal, namespace);
  return temporal;
}

/** The client that runs `temporal`'s reads: the same connection and codec, in the reads namespace. */
export function readsClient(temporal: Client, namespace: string | undefined = readsNamespaces.get(temporal)): Client {
  if (namespace === undefined || temporal.options.namespace === namespace) return temporal;
  const cached = readsClients.get(temporal);
  if (cached?.options.namespace === namespace) return cached;
  const reads = new Client({ connection: temporal.connection, namespace, dataConverter: temporal.options.dataConverter });
  readsClients.set(temporal, reads);
  return reads;
}

/** A refused read (bad or revoked token): exit code 4 in the CLI. */
export class AccessRefusedError extends Error {
  override name = 'AccessRefusedError';
  readonly exitCode = 4;
}

async function read<T>(c: CatalogConnection, query: CatalogQuery): Promise<T> {
  try {
    return (await readsClient(c.temporal, c.readsNamespace).workflow.execute('catalog', {
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
