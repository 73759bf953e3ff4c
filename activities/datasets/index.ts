// The dataset registry: ingest (validation, normalization, versioning) and reading back.
export { datasetActivities } from './activities.ts';
export { ingestDataset, type IngestOptions, type IngestProgress } from './ingest.ts';
export { DatasetNotFoundError, listDatasets, readDatasetRows, readDatasetVersion, type DatasetSummary } from './registry.ts';
export { DatasetValidationError } from './validation-error.ts';
