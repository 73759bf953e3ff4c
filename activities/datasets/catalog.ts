// What anyone with a token may read about the datasets, served by the workers so that clients need
// no S3 credentials: the list (names, versions, row counts, schemas), one version's description,
// and the DP synthetic twin's preview rows. Never a real row: there is no query for them.
import { ApplicationFailure } from '@temporalio/activity';
import { sharedStore } from '../shared/resources.ts';
import type { CatalogAnswer, CatalogQuery, DatasetDescription } from '../../contracts/datasets.ts';
import { Failure } from '../../contracts/failures.ts';
import { readSyntheticPreview } from '../synthetic/twin.ts';
import { DatasetNotFoundError, listDatasets, readDatasetVersion } from './registry.ts';

async function describe(name: string, version?: number): Promise<DatasetDescription> {
  try {
    const { meta } = await readDatasetVersion(await sharedStore(), name, version);
    return { name: meta.name, version: meta.version, rows: meta.rows, schema: meta.schema };
  } catch (err) {
    if (err instanceof DatasetNotFoundError) throw ApplicationFailure.nonRetryable(err.message, Failure.DatasetNotFound);
    throw err;
  }
}

export async function readCatalog(query: CatalogQuery): Promise<CatalogAnswer> {
  switch (query.kind) {
    case 'list':
      return listDatasets(await sharedStore());
    case 'describe':
      return describe(query.name, query.version);
    case 'preview': {
      const dataset = await describe(query.name, query.version);
      const twin = await readSyntheticPreview(await sharedStore(), dataset.name, dataset.version);
      if (!twin) throw ApplicationFailure.nonRetryable(`dataset ${dataset.name} v${dataset.version} has no synthetic twin yet`, Failure.DatasetNotFound);
      return { dataset, twin: twin.info, rows: twin.rows };
    }
    default:
      throw ApplicationFailure.nonRetryable(`unknown catalog query ${JSON.stringify(query)}`, Failure.InvalidInput);
  }
}
