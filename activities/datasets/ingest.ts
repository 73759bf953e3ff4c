// Ingesting a staged file as a new dataset version, without Temporal in sight (the activity wraps
// it). Two passes over the staged upload, both streaming and both verified against the digest the
// client computed: the first validates every row and learns the schema without writing anything;
// the second writes the normalized rows. Only then is a version committed, by its manifest.
import type { Readable } from 'node:stream';
import { IntegrityError, datasetVersionPrefix, type ArtifactStore } from '../../infra/storage/index.ts';
import { csvTable } from './csv.ts';
import { jsonlTable } from './jsonl.ts';
import { SchemaBuilder, valueConverter } from './schema.ts';
import type { DatasetFormat, DatasetMeta, DatasetSchema, IngestDatasetInput, IngestDatasetResult } from '../../contracts/datasets.ts';
import type { TableItem } from './table.ts';
import { utf8Text } from './utf8.ts';
import { DatasetValidationError } from './validation-error.ts';
import { DATA_FILES, claimVersion, clearSlot, discardUncommitted, findOwnWork, type Slot } from './versions.ts';

export interface IngestProgress {
  phase: 'validating' | 'writing';
  rows: number;
}

export interface IngestOptions {
  /** Identifies this ingest across retries (the workflow id): a retry resumes its own work. */
  ingestId: string;
  /** Whether an earlier attempt of this ingest may have left work behind (attempt > 1). */
  resume?: boolean;
  onProgress?: (progress: IngestProgress) => void;
  signal?: AbortSignal;
}

// Often enough that even huge rows keep the heartbeat alive; the activity throttles by time.
const PROGRESS_EVERY_ROWS = 100;
const WRITE_BATCH_CHARS = 1024 * 1024;

function tableOf(format: DatasetFormat, bytes: Readable): AsyncGenerator<TableItem> {
  const text = utf8Text(bytes);
  return format === 'csv' ? csvTable(text) : jsonlTable(text);
}

async function openUpload(store: ArtifactStore, input: IngestDatasetInput): Promise<AsyncGenerator<TableItem>> {
  return tableOf(input.format, await store.getVerified(input.upload.key, input.upload));
}

interface Scan {
  columns: string[];
  schema: DatasetSchema;
  rows: number;
}

/** Pass 1: parse and validate every row, learn the schema, count the rows. Writes nothing. */
async function scan(store: ArtifactStore, input: IngestDatasetInput, opts: IngestOptions): Promise<Scan> {
  let builder: SchemaBuilder | undefined;
  let columns: string[] = [];
  let rows = 0;
  for await (const item of await openUpload(store, input)) {
    if (item.kind === 'columns') {
      columns = item.columns;
      builder = new SchemaBuilder(columns, input.format);
      continue;
    }
    builder!.observe(item.values, item.line);
    if (++rows % PROGRESS_EVERY_ROWS === 0) {
      opts.signal?.throwIfAborted();
      opts.onProgress?.({ phase: 'validating', rows });
    }
  }
  if (!builder) {
    throw new DatasetValidationError(
      input.format === 'csv' ? 'the file is empty: a CSV file needs a header line and at least one row' : 'the file is empty: a JSON Lines file needs at least one line with a JSON object',
    );
  }
  if (rows === 0) throw new DatasetValidationError(input.format === 'csv' ? 'the file has a header but no rows' : 'the file has no rows');
  return { columns, schema: builder.schema(), rows };
}

/** Pass 2: the rows as normalized JSON Lines (one object per row, keys in column order, typed values). */
async function* normalizedRows(store: ArtifactStore, input: IngestDatasetInput, found: Scan, opts: IngestOptions, counted: { rows: number }): AsyncGenerator<string> {
  const keys = found.columns.map((c) => JSON.stringify(c));
  const convert = valueConverter(found.schema, input.format);
  let batch = '';
  for await (const item of await openUpload(store, input)) {
    if (item.kind === 'columns') continue;
    const values = convert(item.values);
    batch += `{${keys.map((k, i) => `${k}:${JSON.stringify(values[i])}`).join(',')}}\n`;
    if (++counted.rows % PROGRESS_EVERY_ROWS === 0) {
      opts.signal?.throwIfAborted();
      opts.onProgress?.({ phase: 'writing', rows: counted.rows });
    }
    if (batch.length >= WRITE_BATCH_CHARS) {
      yield batch;
      batch = '';
    }
  }
  if (batch.length > 0) yield batch;
}

function resultOf(meta: DatasetMeta): IngestDatasetResult {
  return { name: meta.name, version: meta.version, rows: meta.rows, schema: meta.schema };
}

/** Failures that a retry cannot fix: the slot is cleaned up at once instead of kept for a retry. */
export function isPermanent(err: unknown): boolean {
  return err instanceof DatasetValidationError || err instanceof IntegrityError;
}

/** Validates the staged upload and stores it as the next version of `input.name`. */
export async function ingestDataset(store: ArtifactStore, input: IngestDatasetInput, opts: IngestOptions): Promise<IngestDatasetResult> {
  const earlier = opts.resume ? await findOwnWork(store, input.name, opts.ingestId) : undefined;
  if (earlier?.kind === 'committed') return resultOf(earlier.manifest.meta);

  const found = await scan(store, input, opts);

  let slot: Slot;
  if (earlier?.kind === 'claimed') {
    slot = earlier.slot;
    await clearSlot(store, input.name, slot);
  } else {
    slot = await claimVersion(store, input.name, opts.ingestId);
  }
  const prefix = datasetVersionPrefix(input.name, slot.version);
  try {
    const counted = { rows: 0 };
    const rows = await store.putImmutable(`${prefix}/${DATA_FILES[0]}`, normalizedRows(store, input, found, opts, counted));
    if (counted.rows !== found.rows) throw new Error(`the staged upload changed between passes (${found.rows} rows, then ${counted.rows})`);
    const schema = await store.putJsonImmutable(`${prefix}/${DATA_FILES[1]}`, found.schema);
    const meta: DatasetMeta = { kind: 'dataset', name: input.name, version: slot.version, rows: found.rows, schema: found.schema, format: input.format, ingestId: opts.ingestId };
    await store.writeManifest(prefix, [slot.claim, rows, schema], meta);
    return resultOf(meta);
  } catch (err) {
    if (isPermanent(err)) await discardUncommitted(store, input.name, opts.ingestId);
    throw err;
  }
}
