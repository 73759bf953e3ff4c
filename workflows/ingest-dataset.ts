// ingestDataset: turns a raw file the client staged in S3 into version k of a dataset. The rows
// never pass through Temporal: the input names the staged object, the activities stream it, and
// the result carries only the name, version, row count and schema. Whatever happens, the staged
// raw file is deleted at the end, and a failed ingest leaves no half-written version behind.
import { CancellationScope, patched, proxyActivities } from '@temporalio/workflow';
import type { datasetActivities } from '../activities/datasets/activities.ts';
import type { LightActivities } from '../activities/index.ts';
import { ingestDatasetInputSchema, type IngestDatasetInput, type IngestDatasetResult } from '../contracts/datasets.ts';
import { ACCESS_REFUSALS, NON_RETRYABLE } from '../contracts/failures.ts';
import { parseInput } from '../contracts/validation.ts';
import { AUTHORIZE_PATCH } from './patches.ts';

type DatasetActivities = ReturnType<typeof datasetActivities>;

// S3 outages are retried for about ten minutes (1 s, 2 s, 4 s … then every 30 s); a bad file or a
// damaged upload is not retried at all. Heartbeats every second let a dead worker be noticed in 30 s.
const { validateAndStoreDataset } = proxyActivities<DatasetActivities>({
  startToCloseTimeout: '2 hours',
  heartbeatTimeout: '30 seconds',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '30 seconds',
    maximumAttempts: 25,
    nonRetryableErrorTypes: [...NON_RETRYABLE.ingest],
  },
});

const { authorize } = proxyActivities<Pick<LightActivities, 'authorize'>>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 25, nonRetryableErrorTypes: [...ACCESS_REFUSALS] },
});

const { buildSyntheticTwin } = proxyActivities<Pick<LightActivities, 'buildSyntheticTwin'>>({
  startToCloseTimeout: '2 hours',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 25 },
});

const { discardDatasetIngest, deleteStagedUpload } = proxyActivities<DatasetActivities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 25 },
});

export async function ingestDataset(input: IngestDatasetInput): Promise<IngestDatasetResult> {
  const spec = parseInput('ingestDataset', ingestDatasetInputSchema, input);
  const { name, upload } = spec;
  // Clean-up runs even when the ingest is cancelled: raw rows must not linger in staging.
  try {
    // Only a data owner adds datasets, and only to names that are theirs (a new name becomes theirs).
    if (patched(AUTHORIZE_PATCH)) await authorize({ action: 'ingestDataset', request: input });
    const stored = await validateAndStoreDataset(spec);
    // The analyst's only view of the rows: a DP synthetic twin, charged to the dataset's ledger.
    const twin = await buildSyntheticTwin({ name: stored.name, version: stored.version, ...spec.synthetic });
    return { ...stored, synthetic: { epsilon: twin.epsilon, delta: twin.delta, previewRows: twin.previewRows } };
  } catch (err) {
    await CancellationScope.nonCancellable(() => discardDatasetIngest({ name }));
    throw err;
  } finally {
    await CancellationScope.nonCancellable(() => deleteStagedUpload({ key: upload.key }));
  }
}
