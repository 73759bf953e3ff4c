// Privacy-budget activities of a fine-tune: plan the run's privacy (σ calibrated for the target
// ε, before any data is touched), check the analyst may train without DP, and reserve, commit or
// release ε on the (dataset, analyst) ledger, signed as Veil's service. A refusal by the ledger is an answer, not a crash:
// it comes back as a value so the workflow can end with "budget exhausted".
import { ApplicationFailure, Context } from '@temporalio/activity';
import { planRun, TrainConfigError, type RunPlan } from '../../engine/train/index.ts';
import { commit, LedgerError, LedgerErrorType, release, reserve } from '../../clients/sdk/ledger.ts';
import { sharedTemporalClient } from '../shared/resources.ts';
import { serviceSigner } from '../access/authorize.ts';
import type { TrainingSpec } from '../../contracts/fine-tune.ts';
import { trainConfigOf } from '../training/train.ts';

export interface PrivacyPlan extends Omit<RunPlan, 'plannedEpsilon'> {
  /** ε of the training run ('unlimited' when not DP). */
  trainingEpsilon: number | 'unlimited';
}

/**
 * Calibrates σ for the run; refuses 'unlimited' for analysts who are not privileged (`privileged`
 * comes from the request's authorization, which already refused it: this is the second lock).
 */
export async function planPrivacy(input: { analyst: string; privileged: boolean; trainRows: number; training: TrainingSpec }): Promise<PrivacyPlan> {
  if (input.training.targetEpsilon === 'unlimited' && !input.privileged) {
    throw ApplicationFailure.nonRetryable(`analyst ${input.analyst} may not train without differential privacy ('unlimited' is for privileged analysts)`, 'NotPrivileged');
  }
  try {
    const { plannedEpsilon, ...plan } = planRun(trainConfigOf(input.trainRows, input.training));
    return { ...plan, trainingEpsilon: Number.isFinite(plannedEpsilon) ? plannedEpsilon : 'unlimited' };
  } catch (err) {
    if (err instanceof TrainConfigError || (err as Error).name === 'PrivacyInputError') throw ApplicationFailure.nonRetryable((err as Error).message, 'InvalidTrainingConfig');
    throw err;
  }
}

export interface BudgetRequest {
  dataset: string;
  analyst: string;
  jobId: string;
}

/** The ledger entity runs on the queue of the workflow that uses it (`veil` in production). */
function ledgerOptions() {
  return { taskQueue: Context.current().info.taskQueue, signer: serviceSigner };
}

export type ReserveOutcome = { ok: true; epsilon: number; delta: number } | { ok: false; message: string };

export async function reserveBudget(req: BudgetRequest & { epsilon: number; delta: number }): Promise<ReserveOutcome> {
  try {
    const r = await reserve(await sharedTemporalClient(), req, ledgerOptions());
    return { ok: true, epsilon: r.epsilon, delta: r.delta };
  } catch (err) {
    if (err instanceof LedgerError) {
      if (err.code === LedgerErrorType.BudgetExhausted) return { ok: false, message: err.message };
      throw ApplicationFailure.nonRetryable(err.message, err.code);
    }
    throw err;
  }
}

export async function commitBudget(req: BudgetRequest & { epsilonSpent: number; deltaSpent?: number }): Promise<{ epsilonSpent: number }> {
  const r = await commit(await sharedTemporalClient(), req, ledgerOptions());
  return { epsilonSpent: r.epsilonSpent ?? req.epsilonSpent };
}

export async function releaseBudget(req: BudgetRequest): Promise<void> {
  await release(await sharedTemporalClient(), req, ledgerOptions());
}
