// The client side of the dataset registry. Adding a dataset asks the workers for a presigned upload
// URL (workflow stageUpload), streams the local file there (hashing it on the way) and starts the
// ingestDataset workflow with the staged object's key and digest: the rows never travel through
// Temporal, and the client needs no S3 credentials.
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { randomUUID } from 'node:crypto';
import { WorkflowFailedError, type Client } from '@temporalio/client';
import { Failure, isAccessRefusal } from '../../contracts/failures.ts';
import { signRequest } from '../../infra/access/index.ts';
import { applicationCause } from './failures.ts';
import { putFile } from './upload.ts';
import {
  DATASET_FORMATS,
  datasetNameSchema,
  formatFromFileName,
  type DatasetFormat,
  type IngestDatasetInput,
  type IngestDatasetResult,
  type PresignedUpload,
} from '../../contracts/datasets.ts';
import type { ingestDataset } from '../../workflows/ingest-dataset.ts';

export interface AddDatasetOptions {
  /** The data owner's access token (the ingest request is signed with it). */
  token: string;
  /** csv or jsonl; by default from the file's extension (.csv, .jsonl, .ndjson). */
  format?: DatasetFormat;
  /** Called once the workflow has started (the file is uploaded by then). */
  onStarted?: (workflowId: string) => void;
}

export interface AddDatasetResult extends IngestDatasetResult {
  workflowId: string;
}

/** A dataset that could not be added; `exitCode` 2 for bad arguments, 3 for a rejected file, 4 when not allowed. */
export class DatasetIngestError extends Error {
  override name = 'DatasetIngestError';
  constructor(
    message: string,
    readonly exitCode: number,
    readonly workflowId?: string,
    readonly failureType?: string,
  ) {
    super(message);
  }
}

async function checkArguments(name: string, file: string, format: DatasetFormat | undefined): Promise<DatasetFormat> {
  const n = datasetNameSchema.safeParse(name);
  if (!n.success) throw new DatasetIngestError(`invalid dataset name "${name}": ${n.error.issues[0].message}`, 2);
  const fmt = format ?? formatFromFileName(file);
  if (!fmt) throw new DatasetIngestError(`cannot tell the format of "${basename(file)}" from its name: pass a format (${DATASET_FORMATS.join(' or ')})`, 2);
  if (!DATASET_FORMATS.includes(fmt)) throw new DatasetIngestError(`unknown format "${String(fmt)}": expected ${DATASET_FORMATS.join(' or ')}`, 2);
  const s = await stat(file).catch(() => undefined);
  if (!s?.isFile()) throw new DatasetIngestError(`no such file: ${file}`, 2);
  return fmt;
}

/** Uploads `file` and ingests it as the next version of dataset `name`; resolves once it is committed. */
export async function addDataset(
  temporal: Client,
  taskQueue: string,
  name: string,
  file: string,
  options: AddDatasetOptions,
): Promise<AddDatasetResult> {
  const format = await checkArguments(name, file, options.format);
  const id = randomUUID();
  let target: PresignedUpload;
  try {
    target = await temporal.workflow.execute('stageUpload', { taskQueue, workflowId: `stage-upload-${name}-${id.slice(0, 8)}`, args: [signRequest(options.token, 'upload', { name })] });
  } catch (err) {
    const cause = applicationCause(err);
    if (cause && isAccessRefusal(cause.type)) throw new DatasetIngestError(`dataset "${name}" was not added: ${cause.message}`, 4, undefined, cause.type ?? undefined);
    throw err;
  }
  // If anything fails from here on, stageUpload's timer deletes the staged file.
  const sent = await putFile(target.url, file);
  const input: IngestDatasetInput = signRequest(options.token, 'ingestDataset', { name, format, upload: { key: target.key, size: sent.size, sha256: sent.sha256 } });
  const workflowId = `ingest-dataset-${name}-${id.slice(0, 8)}`;
  const handle = await temporal.workflow.start<typeof ingestDataset>('ingestDataset', { taskQueue, workflowId, args: [input] });
  options.onStarted?.(workflowId);
  try {
    return { workflowId, ...(await handle.result()) };
  } catch (err) {
    if (!(err instanceof WorkflowFailedError)) throw err;
    const cause = applicationCause(err);
    if (cause && isAccessRefusal(cause.type)) throw new DatasetIngestError(`dataset "${name}" was not added: ${cause.message}`, 4, workflowId, cause.type ?? undefined);
    const rejected = cause?.type === Failure.DatasetValidationError || cause?.type === Failure.InvalidInput;
    const message = cause?.message ?? err.cause?.message ?? err.message;
    throw new DatasetIngestError(
      rejected ? `dataset "${name}" was not added: ${message}` : `ingesting dataset "${name}" failed: ${message} (workflow ${workflowId})`,
      rejected ? 3 : 1,
      workflowId,
      cause?.type ?? undefined,
    );
  }
}
