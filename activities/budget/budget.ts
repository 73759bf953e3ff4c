// Privacy-budget activities of a fine-tune: plan the run's privacy (σ calibrated for the target
// ε, off the event loop and before any data is touched), check the analyst may train without DP,
// and reserve or commit ε on the (dataset, analyst) ledger, whose truth is the append-only S3
// records of ledger-log.ts. A refusal by the ledger is an answer, not a crash: it comes back as a
// value so the workflow can end with "budget exhausted".
import { ApplicationFailure } from '@temporalio/activity';
import { Failure } from '../../contracts/failures.ts';
import type { TrainingSpec } from '../../contracts/fine-tune.ts';
import { LedgerErrorType, ledgerFailure, type BudgetRead, type BudgetReadResult, type DatasetSpend, type GrantInput, type LedgerBalance } from '../../contracts/ledger.ts';
import { TrainConfigError, type RunPlan } from '../../engine/train/index.ts';
import { DatasetNotFoundError, readDatasetVersion } from '../datasets/index.ts';
import { OffThreadTimeout, runOffThread } from '../shared/off-thread.ts';
import { sharedStore } from '../shared/resources.ts';
import { trainConfigOf } from '../training/train.ts';
import { commit, grant, readBalance, readDatasetSpend, readReservation, reserve } from './ledger.ts';

export interface PrivacyPlan extends Omit<RunPlan, 'plannedEpsilon'> {
  /** ε of the training run ('unlimited' when not DP). */
  trainingEpsilon: number | 'unlimited';
}

/** A calibration that takes longer than this is refused (it would hold a light worker's thread). */
export const PLAN_TIME_LIMIT_MS = 60_000;

/**
 * Calibrates σ for the run in a worker thread; refuses 'unlimited' for analysts who are not
 * privileged (`privileged` comes from the request's authorization, which already refused it:
 * this is the second lock).
 */
export async function planPrivacy(input: { analyst: string; privileged: boolean; trainRows: number; training: TrainingSpec }): Promise<PrivacyPlan> {
  if (input.training.targetEpsilon === 'unlimited' && !input.privileged) {
    throw ApplicationFailure.nonRetryable(`analyst ${input.analyst} may not train without differential privacy ('unlimited' is for privileged analysts)`, Failure.NotPrivileged);
  }
  try {
    const config = trainConfigOf(input.trainRows, input.training);
    const { plannedEpsilon, ...plan } = await runOffThread<typeof config, RunPlan>(new URL('./plan-off-thread.ts', import.meta.url), 'planRunOffThread', config, PLAN_TIME_LIMIT_MS);
    return { ...plan, trainingEpsilon: Number.isFinite(plannedEpsilon) ? plannedEpsilon : 'unlimited' };
  } catch (err) {
    if (err instanceof OffThreadTimeout) throw ApplicationFailure.nonRetryable(`calibrating the noise for this run took too long (${err.message}): lower the target ε or the number of steps`, Failure.InvalidTrainingConfig);
    const name = (err as Error).name;
    if (name === TrainConfigError.name || name === 'PrivacyInputError') throw ApplicationFailure.nonRetryable((err as Error).message, Failure.InvalidTrainingConfig);
    throw err;
  }
}

export interface BudgetRequest {
  dataset: string;
  analyst: string;
  jobId: string;
}

/** `settled`: the job id was reserved before and its job has ended (a rerun): nothing more may be spent or released. */
export type ReserveOutcome = { ok: true; epsilon: number; delta: number } | { ok: false | 'settled'; message: string };

export async function reserveBudget(req: BudgetRequest & { epsilon: number; delta: number }): Promise<ReserveOutcome> {
  try {
    const r = await reserve(await sharedStore(), req, { jobId: req.jobId, epsilon: req.epsilon, delta: req.delta });
    if (r.state !== 'reserved') return { ok: 'settled', message: `job ${req.jobId} already ended and was ${r.state === 'committed' ? `charged ε=${r.epsilonSpent}` : 'released'}: a job runs once` };
    return { ok: true, epsilon: r.epsilon, delta: r.delta };
  } catch (err) {
    if (err instanceof ApplicationFailure && err.type === LedgerErrorType.BudgetExhausted) return { ok: false, message: err.message };
    throw err;
  }
}

export async function commitBudget(req: BudgetRequest & { epsilonSpent: number; deltaSpent?: number }): Promise<{ epsilonSpent: number }> {
  const r = await commit(await sharedStore(), req, { jobId: req.jobId, epsilonSpent: req.epsilonSpent, deltaSpent: req.deltaSpent });
  return { epsilonSpent: r.epsilonSpent ?? req.epsilonSpent };
}

/**
 * The owner's grant; the grantBudget workflow has checked its signature (authorize 'grant') first.
 * δ adds up over an analyst's jobs, so the grant's δ, their total, must stay below 1/N of the
 * dataset (its latest version's public row count).
 */
export async function applyGrant(input: GrantInput): Promise<LedgerBalance> {
  const store = await sharedStore();
  const rows = await readDatasetVersion(store, input.dataset).then(
    (m) => m.meta.rows,
    (err: unknown) => {
      if (err instanceof DatasetNotFoundError) return undefined; // a claimed name with no version yet
      throw err;
    },
  );
  if (rows !== undefined && input.delta >= 1 / rows) {
    throw ledgerFailure(LedgerErrorType.InvalidArgument, `a grant of δ=${input.delta} is not below 1/N = 1/${rows} for dataset ${input.dataset}: grant δ < ${(1 / rows).toPrecision(3)}`);
  }
  return grant(store, { dataset: input.dataset, analyst: input.analyst }, { epsilon: input.epsilon, delta: input.delta, issuedAt: input.issuedAt, auth: input.auth });
}

export async function readSpend(input: { dataset: string }): Promise<DatasetSpend> {
  return readDatasetSpend(await sharedStore(), input.dataset);
}

export async function readBudget(input: BudgetRead): Promise<BudgetReadResult> {
  const store = await sharedStore();
  const key = { dataset: input.dataset, analyst: input.analyst };
  return { balance: await readBalance(store, key), reservation: input.jobId ? await readReservation(store, { ...key, jobId: input.jobId }) : null };
}
