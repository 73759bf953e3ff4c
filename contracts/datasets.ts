// The dataset registry's contract: formats, schemas, the ingestDataset and stageUpload workflows'
// inputs and results, and what the catalog answers. Shared by the client, the workflows and the
// activities, so it imports nothing from Node (the workflow sandbox bundles it).
import { z } from 'zod';
import { requestAuthSchema } from './access.ts';
import { datasetNameSchema } from './ids.ts';

export { DATASET_NAME_PATTERN, datasetNameSchema } from './ids.ts';

export const DATASET_FORMATS = ['csv', 'jsonl'] as const;
export type DatasetFormat = (typeof DATASET_FORMATS)[number];

export const COLUMN_TYPES = ['string', 'integer', 'number', 'boolean', 'json'] as const;
export type ColumnType = (typeof COLUMN_TYPES)[number];

export const columnSchema = z.object({
  name: z.string(),
  type: z.enum(COLUMN_TYPES),
  /** Some rows have no value (null in JSONL, an empty cell in CSV). */
  nullable: z.boolean(),
});
export type Column = z.output<typeof columnSchema>;

export const datasetSchemaSchema = z.object({ columns: z.array(columnSchema).min(1) });
export type DatasetSchema = z.output<typeof datasetSchemaSchema>;

/** How long a presigned upload URL is good for (the staged object is deleted an hour after). */
export const UPLOAD_URL_SECONDS = 3600;

/** A raw file staged in S3 by the client, with the digest the client computed while uploading. */
export const stagedUploadSchema = z.object({
  key: z.string().regex(/^uploads\/[A-Za-z0-9-]{8,64}$/, 'an upload key is uploads/<id>'),
  size: z.number().int().nonnegative(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/, 'a sha256 is 64 lowercase hex digits'),
});
export type StagedUpload = z.output<typeof stagedUploadSchema>;

export const ingestDatasetInputSchema = z
  .object({
    name: datasetNameSchema,
    upload: stagedUploadSchema,
    format: z.enum(DATASET_FORMATS),
    /** The owner's (ε, δ) for the DP synthetic twin built from this version (previews, dry runs). */
    synthetic: z.object({ epsilon: z.number().positive().max(100), delta: z.number().gt(0).lt(1) }).strict().default({ epsilon: 1, delta: 1e-6 }),
    /** The data owner's signature of the request (infra/access); checked before the file is read. */
    auth: requestAuthSchema.optional(),
  })
  .strict();
export type IngestDatasetInput = z.input<typeof ingestDatasetInputSchema>;

export interface IngestDatasetResult {
  name: string;
  version: number;
  rows: number;
  schema: DatasetSchema;
  /** The DP synthetic twin's budget (set by the ingest workflow once the twin is built). */
  synthetic?: { epsilon: number; delta: number; previewRows: number };
}

/** What a dataset version's manifest records besides its files' digests. */
export const datasetMetaSchema = z.object({
  kind: z.literal('dataset'),
  name: datasetNameSchema,
  version: z.number().int().positive(),
  rows: z.number().int().positive(),
  schema: datasetSchemaSchema,
  format: z.enum(DATASET_FORMATS),
  /** The workflow that ingested it: makes a retried ingest idempotent. */
  ingestId: z.string(),
});
export type DatasetMeta = z.output<typeof datasetMetaSchema>;


/** The format a file name implies, if any. */
export function formatFromFileName(fileName: string): DatasetFormat | undefined {
  const lower = fileName.toLowerCase();
  if (lower.endsWith('.csv')) return 'csv';
  if (lower.endsWith('.jsonl') || lower.endsWith('.ndjson')) return 'jsonl';
  return undefined;
}

export const stageUploadInputSchema = z.object({ name: datasetNameSchema, auth: requestAuthSchema.optional() });

/** Where the data owner sends a file: a presigned PUT URL for a fresh uploads/<uuid> key. */
export interface PresignedUpload {
  key: string;
  url: string;
  expiresAt: string;
}

/** One dataset as the catalog lists it: its latest committed version. */
export interface DatasetSummary {
  name: string;
  /** The latest committed version, which the summary describes. */
  version: number;
  /** Every committed version, ascending. */
  versions: number[];
  rows: number;
  schema: DatasetSchema;
  format: DatasetFormat;
  createdAt: string;
}

/** One version as the list describes it, without the list's other fields. */
export type DatasetDescription = Pick<DatasetSummary, 'name' | 'version' | 'rows' | 'schema'>;

/** The DP synthetic twin of one dataset version: its budget and how many preview rows it holds. */
export interface SyntheticTwinInfo extends Record<string, unknown> {
  name: string;
  version: number;
  epsilon: number;
  delta: number;
  previewRows: number;
}

export interface SyntheticRows {
  dataset: DatasetDescription;
  twin: SyntheticTwinInfo;
  rows: Record<string, unknown>[];
}

const versionSchema = z.number().int().positive().optional();
/** The catalog workflow's input: a signed read of what any principal may know about the datasets. */
export const catalogInputSchema = z.object({
  query: z.discriminatedUnion('kind', [
    z.object({ kind: z.literal('list') }).strict(),
    z.object({ kind: z.literal('describe'), name: datasetNameSchema, version: versionSchema }).strict(),
    z.object({ kind: z.literal('preview'), name: datasetNameSchema, version: versionSchema }).strict(),
  ]),
  auth: requestAuthSchema.optional(),
});
export type CatalogQuery = z.output<typeof catalogInputSchema>['query'];
export type CatalogAnswer = DatasetSummary[] | DatasetDescription | SyntheticRows;
