// Turns a committed dataset version into the tokenized train/test rows a fine-tune reads: selects
// the text column, tokenizes (each row ends with <|endoftext|>, so the model learns where notes
// end), splits, and commits both halves under runs/<jobId>/data with a manifest. Idempotent: a
// retried attempt finds the committed manifest and returns it. Errors speak in counts only.
import { ApplicationFailure, Context } from '@temporalio/activity';
import { readDatasetRows, readDatasetVersion, DatasetNotFoundError } from '../datasets/index.ts';
import { ObjectExistsError } from '../../infra/storage/index.ts';
import { SecureStream } from '../../engine/random/secure-stream.ts';
import { END_OF_TEXT_ID, encode } from '../../engine/tokenizer/gpt2-tokenizer.ts';
import type { PreprocessingStep, SplitSpec } from '../../workflows/fineTune/spec.ts';
import { applyPreprocessing, columnsAfter, type PreprocessingReport } from '../preprocessing/apply.ts';
import { sharedStore } from '../shared/resources.ts';
import { encodeTokenizedRows } from './tokenizedRows.ts';

export interface PrepareDataInput {
  jobId: string;
  dataset: { name: string; version?: number };
  preprocessing: PreprocessingStep[];
  textColumn: string;
  split: SplitSpec;
  maxSeqLen: number;
}

export interface PreparedData {
  prefix: string;
  dataset: { name: string; version: number; rows: number };
  trainKey: string;
  testKey: string;
  trainRows: number;
  testRows: number;
  /** Rows left out because their text column was missing, not a string, or empty. */
  skippedRows: number;
  /** Rows cut to maxSeqLen tokens. */
  truncatedRows: number;
  /** Per step: the function run and its failure counts (rows dropped), never a row. */
  preprocessing: PreprocessingReport;
}

export const PREPARE_ERROR = 'InvalidTrainingData';

export function runDataPrefix(jobId: string): string {
  return `runs/${jobId}/data`;
}

/** Indices in the order the split takes them: a seeded Fisher–Yates shuffle, or the identity. */
export function splitOrder(n: number, split: SplitSpec): { train: number[]; test: number[] } {
  const order = Array.from({ length: n }, (_, i) => i);
  if (split.kind === 'index') {
    if (split.testFrom >= n) throw ApplicationFailure.nonRetryable(`split.testFrom=${split.testFrom} leaves no test rows (${n} usable rows)`, PREPARE_ERROR);
    return { train: order.slice(0, split.testFrom), test: order.slice(split.testFrom) };
  }
  const rng = SecureStream.fromSeed(split.shuffleSeed, 'split');
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng.nextDouble() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  const testCount = Math.round(n * split.testFraction);
  if (testCount < 1 || testCount >= n) {
    throw ApplicationFailure.nonRetryable(`split.testFraction=${split.testFraction} of ${n} usable rows leaves an empty train or test set`, PREPARE_ERROR);
  }
  return { train: order.slice(testCount), test: order.slice(0, testCount) };
}

/**
 * A job id names one job for good (its checkpoints, run key, model): the first workflow to use it
 * claims runs/<jobId>/job.json, and any other workflow is refused before it can touch that run.
 */
async function claimJobId(store: Awaited<ReturnType<typeof sharedStore>>, jobId: string, workflowId: string): Promise<void> {
  const key = `runs/${jobId}/job.json`;
  try {
    await store.putJsonImmutable(key, { jobId, workflowId });
    return;
  } catch (err) {
    if (!(err instanceof ObjectExistsError)) throw err;
  }
  const owner = JSON.parse((await store.getRawBuffer(key)).toString('utf8')) as { workflowId: string };
  if (owner.workflowId !== workflowId) throw ApplicationFailure.nonRetryable(`job id "${jobId}" is already used by another job (${owner.workflowId})`, 'JobIdTaken');
}

export async function prepareTrainingData(input: PrepareDataInput): Promise<PreparedData> {
  const store = await sharedStore();
  const workflowId = Context.current().info.workflowExecution?.workflowId;
  if (workflowId) await claimJobId(store, input.jobId, workflowId);
  const prefix = runDataPrefix(input.jobId);
  const existing = await store.tryReadManifest(prefix);
  if (existing) return existing.meta as unknown as PreparedData;

  let manifest;
  try {
    manifest = await readDatasetVersion(store, input.dataset.name, input.dataset.version);
  } catch (err) {
    if (err instanceof DatasetNotFoundError) throw ApplicationFailure.nonRetryable(err.message, 'DatasetNotFound');
    throw err;
  }
  const columns = columnsAfter(manifest.meta.schema.columns.map((c) => c.name), input.preprocessing);
  if (!columns.includes(input.textColumn)) {
    throw ApplicationFailure.nonRetryable(`dataset "${manifest.meta.name}" v${manifest.meta.version} has no column "${input.textColumn}" after preprocessing (columns: ${columns.join(', ')})`, PREPARE_ERROR);
  }
  const pre = applyPreprocessing(readDatasetRows(store, manifest), input.preprocessing);
  const ctx = Context.current();
  const tokenized: number[][] = [];
  let skipped = 0;
  let truncated = 0;
  for await (const row of pre.rows) {
    const text = row[input.textColumn];
    if (typeof text !== 'string' || text.length === 0) {
      skipped++;
      continue;
    }
    const ids = encode(text);
    ids.push(END_OF_TEXT_ID);
    if (ids.length > input.maxSeqLen) {
      truncated++;
      ids.length = input.maxSeqLen;
    }
    tokenized.push(ids);
    if (tokenized.length % 1000 === 0) ctx.heartbeat({ rows: tokenized.length });
  }
  if (tokenized.length < 2) throw ApplicationFailure.nonRetryable(`only ${tokenized.length} usable rows in column "${input.textColumn}" (${skipped} skipped: missing, empty or not text)`, PREPARE_ERROR);
  const { train, test } = splitOrder(tokenized.length, input.split);
  await store.deletePrefix(prefix); // objects of an attempt that died before committing
  const trainObj = await store.putImmutable(`${prefix}/train.tokens`, encodeTokenizedRows(train.map((i) => tokenized[i])));
  const testObj = await store.putImmutable(`${prefix}/test.tokens`, encodeTokenizedRows(test.map((i) => tokenized[i])));
  const result: PreparedData = {
    prefix,
    dataset: { name: manifest.meta.name, version: manifest.meta.version, rows: manifest.meta.rows },
    trainKey: trainObj.key,
    testKey: testObj.key,
    trainRows: train.length,
    testRows: test.length,
    skippedRows: skipped,
    truncatedRows: truncated,
    preprocessing: await pre.report(),
  };
  await store.writeManifest(prefix, [trainObj, testObj], { ...result });
  return result;
}
