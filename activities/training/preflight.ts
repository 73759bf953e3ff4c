// The fine-tune's preflight: every check that needs only public facts, made before any private row
// is read and before any budget is held, so that a request that cannot run costs nothing (not even
// δ): the dataset version exists and its row count N; the split leaves rows on both sides; δ is
// below 1/N; the base model exists and this analyst may build on it; the preprocessing names
// columns that exist and its traced functions pass their checks (the analyst's own code is public).
import { ApplicationFailure } from '@temporalio/activity';
import { Failure } from '../../contracts/failures.ts';
import type { JobPlan, PreprocessingStep, SplitSpec } from '../../contracts/fine-tune.ts';
import { TraceError, verifyTraced } from '../../engine/sandbox/index.ts';
import { columnsAfter, PREPROCESSING_ERROR } from '../preprocessing/apply.ts';
import { modelIdOfReference } from '../../contracts/ids.ts';
import { DatasetNotFoundError, readDatasetVersion } from '../datasets/index.ts';
import { readModelPrivacy } from '../models/registry.ts';
import { resolveBaseModel } from './base-model.ts';
import { sharedStore } from '../shared/resources.ts';
import { readAuditPolicy } from '../audit/audit-policy.ts';

export interface PreflightInput {
  analyst: string;
  dataset: { name: string; version?: number };
  split: SplitSpec;
  base: string;
  /** The requested δ (undefined: the default 1/N^1.1 of the training slots); null for a non-DP job. */
  delta: number | undefined | null;
  preprocessing: PreprocessingStep[];
  textColumn: string;
  /** Inserted canaries the request asks for (the dataset owner's policy may raise it). */
  insertCanaries: number;
}

/** The steps' columns against the dataset's schema, and each traced function's own checks. */
function checkPreprocessing(columns: string[], steps: PreprocessingStep[], textColumn: string, dataset: string): void {
  const after = columnsAfter(columns, steps);
  if (!after.includes(textColumn)) throw refuse(`dataset "${dataset}" has no column "${textColumn}" after preprocessing (columns: ${after.join(', ')})`, Failure.InvalidTrainingData);
  for (const step of steps) {
    if (step.kind !== 'map') continue;
    try {
      verifyTraced(step.fn);
    } catch (err) {
      if (err instanceof TraceError || err instanceof TypeError) throw refuse(err.message, PREPROCESSING_ERROR);
      throw err;
    }
  }
}

const refuse = (message: string, type: string) => ApplicationFailure.nonRetryable(message, type);

/** How many of n slots the split puts on each side (prepare-data.ts's splitOrder takes its sizes from here). */
export function splitSizes(n: number, split: SplitSpec): { train: number; test: number } {
  if (split.kind === 'index') {
    if (split.testFrom >= n) throw refuse(`split.testFrom=${split.testFrom} leaves no test rows (the dataset has ${n} rows)`, Failure.InvalidTrainingData);
    return { train: split.testFrom, test: n - split.testFrom };
  }
  const test = Math.round(n * split.testFraction);
  if (test < 1 || test >= n) throw refuse(`split.testFraction=${split.testFraction} of ${n} rows leaves an empty train or test set`, Failure.InvalidTrainingData);
  return { train: n - test, test };
}

/** δ = 1/N^1.1 of the training slots unless the request sets one (engine/train's default). */
export function defaultDelta(trainRows: number): number {
  return 1 / trainRows ** 1.1;
}

export async function checkFineTune(input: PreflightInput): Promise<JobPlan> {
  const store = await sharedStore();
  let meta;
  try {
    meta = (await readDatasetVersion(store, input.dataset.name, input.dataset.version)).meta;
  } catch (err) {
    if (err instanceof DatasetNotFoundError) throw refuse(err.message, Failure.DatasetNotFound);
    throw err;
  }
  checkPreprocessing(meta.schema.columns.map((c) => c.name), input.preprocessing, input.textColumn, meta.name);
  const n = meta.rows;
  const { train, test } = splitSizes(n, input.split);
  const delta = input.delta === null ? 0 : (input.delta ?? defaultDelta(train));
  // δ is the chance the guarantee fails outright; at 1/N or more a mechanism may publish a whole
  // row and still be "DP". The rule holds for the dataset's row count, a public number.
  if (input.delta !== null && delta >= 1 / n) {
    throw refuse(`δ=${delta} is not below 1/N = 1/${n} for dataset ${meta.name} v${meta.version}: choose δ < ${(1 / n).toPrecision(3)} (the default is 1/N^1.1 of the training rows)`, Failure.InvalidTrainingConfig);
  }
  // A named pretrained model that is not in the local cache is refused here, never silently random.
  const { initialization } = resolveBaseModel(input.base);
  const modelId = modelIdOfReference(input.base);
  if (modelId !== undefined) {
    const base = await readModelPrivacy(store, modelId);
    if (!base) throw refuse(`no registered model ${input.base}`, Failure.ModelNotFound);
    // An analyst builds on their own models only: another analyst's model may carry a privacy loss
    // (or none: a non-DP model) that this analyst's release check would otherwise not see.
    if (base.analyst !== input.analyst) throw refuse(`model ${modelId} belongs to another analyst: analysts build on public GPT-2 sizes or their own models`, Failure.Forbidden);
  }
  // The owner's audit policy raises the inserted canaries, never lowers what the analyst asked for.
  const policy = await readAuditPolicy(store, meta.name);
  const insertCanaries = Math.max(input.insertCanaries, policy.minInsertedCanaries);
  return { dataset: { name: meta.name, version: meta.version, rows: n }, trainRows: train, testRows: test, delta, baseModel: { base: input.base, initialization }, insertCanaries };
}
