// The dataset registry's contract: names, formats, schemas and the ingestDataset workflow's input
// and result. Shared by the client, the workflow and the activities, so it imports nothing from
// Node (the workflow sandbox bundles it).
import { z } from 'zod';
import { requestAuthSchema } from '../../infra/access/requestAuth.ts';

export const DATASET_NAME_PATTERN = /^[a-z0-9][a-z0-9_-]{0,62}$/;

export const datasetNameSchema = z
  .string()
  .regex(DATASET_NAME_PATTERN, 'a dataset name is 1-63 characters: lowercase letters, digits, "_" and "-", starting with a letter or digit');

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

/** A raw file staged in S3 by the client, with the digest the client computed while uploading. */
/** How long a presigned upload URL is good for (the staged object is deleted an hour after). */
export const UPLOAD_URL_SECONDS = 3600;

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

/** Failure types the ingest raises; listed in the workflow's retry policy as non-retryable. */
export const DATASET_VALIDATION_ERROR = 'DatasetValidationError';
export const UPLOAD_INTEGRITY_ERROR = 'UploadIntegrityError';
export const INVALID_INPUT_ERROR = 'InvalidInput';

/** The format a file name implies, if any. */
export function formatFromFileName(fileName: string): DatasetFormat | undefined {
  const lower = fileName.toLowerCase();
  if (lower.endsWith('.csv')) return 'csv';
  if (lower.endsWith('.jsonl') || lower.endsWith('.ndjson')) return 'jsonl';
  return undefined;
}
