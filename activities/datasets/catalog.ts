// What anyone with a token may read about the datasets, served by the workers so that clients need
// no S3 credentials: the list (names, versions, row counts, schemas), one version's description,
// and the DP synthetic twin's preview rows. Never a real row: there is no query for them.
import { ApplicationFailure } from '@temporalio/activity';
import { sharedStore } from '../shared/resources.ts';
import { readSyntheticPreview, type SyntheticTwinInfo } from '../synthetic/twin.ts';
import { DatasetNotFoundError, listDatasets, readDatasetVersion, type DatasetSummary } from './registry.ts';

export type CatalogQuery = { kind: 'list' } | { kind: 'describe'; name: string; version?: number } | { kind: 'preview'; name: string; version?: number };

/** One version as the list describes it, without the list's other fields. */
export type DatasetDescription = Pick<DatasetSummary, 'name' | 'version' | 'rows' | 'schema'>;

export interface SyntheticRows {
  dataset: DatasetDescription;
  twin: SyntheticTwinInfo;
  rows: Record<string, unknown>[];
}

async function describe(name: string, version?: number): Promise<DatasetDescription> {
  try {
    const { meta } = await readDatasetVersion(await sharedStore(), name, version);
    return { name: meta.name, version: meta.version, rows: meta.rows, schema: meta.schema };
  } catch (err) {
    if (err instanceof DatasetNotFoundError) throw ApplicationFailure.nonRetryable(err.message, 'DatasetNotFound');
    throw err;
  }
}

export async function readCatalog(query: CatalogQuery): Promise<DatasetSummary[] | DatasetDescription | SyntheticRows> {
  switch (query.kind) {
    case 'list':
      return listDatasets(await sharedStore());
    case 'describe':
      return describe(query.name, query.version);
    case 'preview': {
      const dataset = await describe(query.name, query.version);
      const twin = await readSyntheticPreview(await sharedStore(), dataset.name, dataset.version);
      if (!twin) throw ApplicationFailure.nonRetryable(`dataset ${dataset.name} v${dataset.version} has no synthetic twin yet`, 'DatasetNotFound');
      return { dataset, twin: twin.info, rows: twin.rows };
    }
    default:
      throw ApplicationFailure.nonRetryable(`unknown catalog query ${JSON.stringify(query)}`, 'InvalidInput');
  }
}
