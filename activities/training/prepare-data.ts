// Turns a committed dataset version into the tokenized train/test rows a fine-tune reads: selects
// the text column, tokenizes (<|endoftext|> text <|endoftext|>, GPT-2's layout: see below),
// splits, and commits both halves under runs/<jobId>/data with a manifest. Idempotent: a
// retried attempt finds the committed manifest and returns it.
//
// Slots, not rows: every row of the dataset keeps its place (a slot) whether or not it survives
// preprocessing. A row whose function failed, or whose text is missing or empty, becomes an empty
// slot that contributes nothing to training or evaluation. So the train and test sizes, the
// sampling rate and the number of steps depend only on the dataset's public row count, never on
// how many rows the analyst's code rejected: otherwise a function that throws on one patient's
// notes would turn the row count into a membership test. The exact counts (failures, skipped,
// truncated) stay in this run's manifest in S3; the analyst gets them with noise (data-report.ts).
import { ApplicationFailure, Context } from '@temporalio/activity';
import { readDatasetRows, readDatasetVersion, DatasetNotFoundError } from '../datasets/index.ts';
import { ObjectExistsError, commitOnce, runClaimKey, runDataPrefix } from '../../infra/storage/index.ts';
import { SecureStream } from '../../engine/random/secure-stream.ts';
import { END_OF_TEXT_ID, encode } from '../../engine/tokenizer/gpt2-tokenizer.ts';
import type { PreparedData, PreprocessingStep, SplitSpec } from '../../contracts/fine-tune.ts';
import { splitSizes } from './preflight.ts';
import { applyPreprocessing, columnsAfter, type PreprocessingReport } from '../preprocessing/apply.ts';
import { sharedStore } from '../shared/resources.ts';
import { encodeTokenizedRows } from './tokenized-rows.ts';
import { INSERTED_CANARIES_FILE, encodeInsertedCanaries, insertedCanarySlots } from '../audit/inserted-canaries.ts';

export interface PrepareDataInput {
  jobId: string;
  dataset: { name: string; version?: number };
  preprocessing: PreprocessingStep[];
  textColumn: string;
  split: SplitSpec;
  maxSeqLen: number;
  /**
   * Random canaries for the privacy audit, appended as extra train slots after the real rows' (each
   * filled with probability ½, else empty): trainRows counts them, so q = batchSize / (N + m).
   */
  insertCanaries?: number;
}


/** Exact counts over private rows: kept in the run's manifest, never returned as they are. */
export interface PrivateDataCounts {
  /** Rows left out because their text column was missing, not a string, or empty. */
  skippedRows: number;
  /** Rows cut to maxSeqLen tokens. */
  truncatedRows: number;
  /** Per step: the function run and its failure counts (rows dropped), never a row. */
  preprocessing: PreprocessingReport;
}

/** Marks each dataset row with its slot; symbol keys survive renames and the sandbox's row copies. */
const SLOT = Symbol('veil.slot');

async function* withSlots(rows: AsyncIterable<Record<string, unknown>>): AsyncGenerator<Record<string | symbol, unknown>> {
  let slot = 0;
  for await (const row of rows) yield { ...row, [SLOT]: slot++ };
}

export const PREPARE_ERROR = 'InvalidTrainingData';

/** Indices in the order the split takes them: a seeded Fisher–Yates shuffle, or the identity. */
export function splitOrder(n: number, split: SplitSpec): { train: number[]; test: number[] } {
  // The sizes (and their refusals) are the preflight's: one arithmetic for the plan and the data.
  const { test: testCount } = splitSizes(n, split);
  const order = Array.from({ length: n }, (_, i) => i);
  if (split.kind === 'index') return { train: order.slice(0, split.testFrom), test: order.slice(split.testFrom) };
  const rng = SecureStream.fromSeed(split.shuffleSeed, 'split');
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng.nextDouble() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  return { train: order.slice(testCount), test: order.slice(0, testCount) };
}

/**
 * A job id names one job for good (its checkpoints, run key, model): the first workflow to use it
 * claims runs/<jobId>/job.json, and any other workflow is refused before it can touch that run.
 */
async function claimJobId(store: Awaited<ReturnType<typeof sharedStore>>, jobId: string, workflowId: string): Promise<void> {
  const key = runClaimKey(jobId);
  try {
    await store.putJsonImmutable(key, { jobId, workflowId });
    return;
  } catch (err) {
    if (!(err instanceof ObjectExistsError)) throw err;
  }
  const owner = JSON.parse((await store.getRawBuffer(key)).toString('utf8')) as { workflowId: string };
  if (owner.workflowId !== workflowId) throw ApplicationFailure.nonRetryable(`job id "${jobId}" is already used by another job (${owner.workflowId})`, 'JobIdTaken');
}

/** The public part of a prepared run's manifest meta: the exact counts stay behind. */
function preparedOf(meta: Record<string, unknown>): PreparedData {
  const { privateCounts: _private, ...prepared } = meta as unknown as PreparedData & { privateCounts: unknown };
  return prepared;
}

export async function prepareTrainingData(input: PrepareDataInput): Promise<PreparedData> {
  const store = await sharedStore();
  const workflowId = Context.current().info.workflowExecution?.workflowId;
  if (workflowId) await claimJobId(store, input.jobId, workflowId);
  const prefix = runDataPrefix(input.jobId);
  const existing = await store.tryReadManifest(prefix);
  if (existing) return preparedOf(existing.meta);

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
  // The split is decided on the public slots before any row is read.
  const slotCount = manifest.meta.rows;
  const { train, test } = splitOrder(slotCount, input.split);
  // Paced to the public row count: the run takes N slots per traced step whatever the rows hold.
  const pre = applyPreprocessing(withSlots(readDatasetRows(store, manifest)), input.preprocessing, { rowCount: slotCount });
  const ctx = Context.current();
  // Heartbeats on a timer, with the elapsed share of the padded time: nothing that counts rows.
  const beat = setInterval(() => ctx.heartbeat({ fraction: pre.progress() }), 2_000);
  const tokenized: number[][] = Array.from({ length: slotCount }, () => []);
  let usable = 0;
  let truncated = 0;
  let report: PreprocessingReport;
  try {
    for await (const row of pre.rows) {
      const slot = (row as Record<symbol, unknown>)[SLOT];
      if (typeof slot !== 'number' || slot >= slotCount) throw new Error('preprocessing lost a row\'s slot'); // a bug, not data
      const text = row[input.textColumn];
      if (typeof text !== 'string' || text.length === 0) continue;
      // GPT-2's document layout: <|endoftext|> text <|endoftext|>. Generation from an empty prompt
      // starts at <|endoftext|>, so a row must start there too, and its end teaches where to stop.
      const ids = [END_OF_TEXT_ID, ...encode(text), END_OF_TEXT_ID];
      if (ids.length > input.maxSeqLen) {
        truncated++;
        ids.length = input.maxSeqLen;
      }
      tokenized[slot] = ids;
      usable++;
    }
    report = await pre.report();
  } finally {
    clearInterval(beat);
  }
  const failed = report.steps.reduce((n, step) => n + (step.failures?.count ?? 0), 0);
  const counts: PrivateDataCounts = { skippedRows: slotCount - usable - failed, truncatedRows: truncated, preprocessing: report };
  const inserted = input.insertCanaries ? await insertedCanarySlots(store, input.jobId, input.insertCanaries, input.maxSeqLen) : [];
  const { manifest: committed } = await commitOnce(store, prefix, async (w) => {
    const trainObj = await w.put('train.tokens', encodeTokenizedRows([...train.map((i) => tokenized[i]), ...inserted.map((c) => (c.included ? c.tokens : []))]));
    if (inserted.length > 0) await w.put(INSERTED_CANARIES_FILE, encodeInsertedCanaries(inserted));
    const testObj = await w.put('test.tokens', encodeTokenizedRows(test.map((i) => tokenized[i])));
    const result: PreparedData = {
      prefix,
      dataset: { name: manifest.meta.name, version: manifest.meta.version, rows: manifest.meta.rows },
      trainKey: trainObj.key,
      testKey: testObj.key,
      trainRows: train.length + inserted.length,
      testRows: test.length,
      preprocessing: report.steps.map(({ kind, function: fn }) => (fn ? { kind, function: fn } : { kind })),
    };
    return { ...result, privateCounts: counts };
  });
  return preparedOf(committed.meta);
}

/** The exact counts of a prepared run (workers only: they are statistics of private rows). */
export async function readPrivateCounts(jobId: string): Promise<PrivateDataCounts> {
  const manifest = await (await sharedStore()).readManifest(runDataPrefix(jobId));
  return manifest.meta.privateCounts as PrivateDataCounts;
}
