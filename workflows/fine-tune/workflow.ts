// fineTune: authorize the analyst's signed request → preflight (dataset, split, δ, base model:
// public facts only) → plan the privacy (σ for the target ε) → reserve ε on the ledger → prepare
// (run the preprocessing, tokenize, split) → train on veil-gpu (heartbeats, S3 checkpoints, resume
// on retry) → data report and evaluation (DP releases) → commit ε → register the model with its
// privacy metadata → audit. Nothing reads a private row before the budget is held. Deterministic
// orchestration only; every side effect is an activity, and only S3 keys and small summaries
// travel through history, never rows.
import {
  ActivityCancellationType,
  ApplicationFailure,
  CancellationScope,
  isCancellation,
  log,
  patched,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { GpuActivities, LightActivities } from '../../activities/index.ts';
import type { JobActivities } from '../../activities/jobs/index.ts';
import { Failure, NON_RETRYABLE } from '../../contracts/failures.ts';
import { DATA_REPORT_EPSILON, EVALUATION_EPSILON, RELEASES_EPSILON, fineTuneSchema, type FineTuneResult } from '../../contracts/fine-tune.ts';
import { describeIdRule, idFromWorkflowId, isValidId } from '../../contracts/ids.ts';
import { parseInput } from '../../contracts/validation.ts';
import { AUTHORIZE_PATCH, DATA_REPORT_PATCH, JOB_END_STATES_PATCH } from '../patches.ts';
import { jobResultQuery, showOwners, showStage } from './search-attributes.ts';

// Light activities run on the workflow's own queue (`veil`); GPU ones on `<that queue>-gpu`.
const light = proxyActivities<LightActivities>({
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: '2 minutes',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 30, nonRetryableErrorTypes: [...NON_RETRYABLE.fineTune] },
});

const gpuActivities = (heartbeatTimeoutSeconds = 30): GpuActivities => proxyActivities<GpuActivities>({
  taskQueue: `${workflowInfo().taskQueue}-gpu`,
  startToCloseTimeout: '7 days',
  // The train activity heartbeats every 2 s from its main thread (training runs in a worker
  // thread): a killed worker is noticed within this, and the retry resumes from the checkpoint.
  heartbeatTimeout: `${heartbeatTimeoutSeconds}s`,
  // On cancellation, wait for the activity to checkpoint and stop before charging what it spent.
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 50, nonRetryableErrorTypes: [...NON_RETRYABLE.fineTune] },
});

// The list's pseudonyms are a convenience: a worker without the activity (an older build, during a
// rolling upgrade) answers NotFoundError at once, and the job runs on without them.
const { jobSearchPseudonyms } = proxyActivities<JobActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1s', maximumInterval: '10s', maximumAttempts: 5, nonRetryableErrorTypes: ['NotFoundError'] },
});

function jobIdOf(explicit: string | undefined): string {
  // A Schedule names its runs `<workflow id>-<RFC 3339 time>`, whose ':' a job id (an S3 path
  // part) may not hold: the default id replaces such characters.
  const id = explicit ?? idFromWorkflowId(workflowInfo().workflowId);
  if (!isValidId(id)) {
    throw ApplicationFailure.nonRetryable(`job id "${id}" must be ${describeIdRule()} (pass jobId, or start the workflow with such an id)`, Failure.InvalidInput);
  }
  return id;
}

export async function fineTune(input: unknown): Promise<FineTuneResult> {
  // Decided once, at the start: runs begun before the change replay without it, to the end.
  const ui = patched(JOB_END_STATES_PATCH);
  const job: JobEnd = { ui, result: null };
  setHandler(jobResultQuery, () => job.result);
  showStage(ui, 'queued');
  try {
    return await runFineTune(input, job);
  } catch (err) {
    // Cancelled or refused: the list says so (a budget refusal has said it already).
    if (job.result?.status !== 'budget-exhausted') showStage(ui, isCancellation(err) ? 'cancelled' : 'failed', job.result?.epsilon);
    throw err;
  }
}

/** What the workflow keeps of how it ended: whether it shows it in Temporal, and its result. */
interface JobEnd {
  ui: boolean;
  result: FineTuneResult | null;
}

async function pseudonymsFor(analyst: string, dataset: string): Promise<{ analyst: string; dataset: string } | null> {
  try {
    return await jobSearchPseudonyms({ analyst, dataset });
  } catch (err) {
    if (isCancellation(err)) throw err;
    log.warn('no search-attribute pseudonyms for this job', { error: err instanceof Error ? err.message : String(err) });
    return null;
  }
}

async function runFineTune(input: unknown, end: JobEnd): Promise<FineTuneResult> {
  const { ui } = end;
  const spec = parseInput('fineTune', fineTuneSchema, input);
  const gpu = gpuActivities();
  // Only train takes the spec's heartbeat timeout: evaluation heartbeats less often (per 16 rows).
  const { train } = gpuActivities(spec.trainHeartbeatTimeoutSeconds);
  const jobId = jobIdOf(spec.jobId);
  const budgetKey = { dataset: spec.dataset.name, analyst: spec.analyst, jobId };
  // Who is asking, proven by their signature, before anything reads data or holds budget.
  const principal = patched(AUTHORIZE_PATCH) ? await light.authorize({ action: 'fineTune', request: input }) : { privileged: false };

  // Public facts first (a request that cannot run costs nothing), then the budget, then the data.
  const target = spec.training.targetEpsilon;
  const job = await light.checkFineTune({
    analyst: spec.analyst,
    dataset: spec.dataset,
    split: spec.split,
    base: spec.model.base,
    delta: target === 'unlimited' ? null : spec.training.delta,
    preprocessing: spec.preprocessing,
    textColumn: spec.textColumn,
    insertCanaries: spec.audit.insertCanaries,
  });
  // Authorized and checked: the list may now show whose job this is (as pseudonyms).
  if (ui) showOwners(ui, await pseudonymsFor(spec.analyst, spec.dataset.name));
  // The dataset's owner may require more inserted canaries than the request asks for.
  const insertCanaries = job.insertCanaries ?? spec.audit.insertCanaries;
  // The held-out evaluation and the data report are releases too: their ε comes out of the target,
  // so that the job never spends more than the analyst asked for.
  // (The schema holds the target above 2·RELEASES_EPSILON.)
  const training = target === 'unlimited' ? spec.training : { ...spec.training, targetEpsilon: target - RELEASES_EPSILON, delta: job.delta };
  // The audit's inserted canaries are extra train slots: the accountant samples from them too.
  const plan = await light.planPrivacy({ analyst: spec.analyst, privileged: principal.privileged, trainRows: job.trainRows + insertCanaries, training });
  const dp = plan.trainingEpsilon !== 'unlimited';
  const base = { jobId, modelId: jobId, steps: plan.totalSteps, trainRows: job.trainRows, testRows: job.testRows, noiseMultiplier: plan.noiseMultiplier, delta: plan.delta };

  if (plan.trainingEpsilon !== 'unlimited') {
    // Not cancellable: a cancellation that arrived while the ledger records the reservation would
    // leave it held forever. It takes effect just after: train is refused and the job settles at ε=0.
    const request = { ...budgetKey, epsilon: plan.trainingEpsilon + RELEASES_EPSILON, delta: plan.delta ?? 0 };
    const reservation = await CancellationScope.nonCancellable(() => light.reserveBudget(request));
    if (reservation.ok === 'settled') {
      // This job already ran and was charged (a rerun or reset of a finished job): what it released then stands.
      return (await light.readJobResult({ jobId })) ?? { ...base, modelId: '', status: 'cancelled', epsilon: 0, steps: 0, evaluation: null, dataReport: null, audit: null, message: reservation.message };
    }
    if (!reservation.ok) {
      const refused: FineTuneResult = { ...base, modelId: '', status: 'budget-exhausted', epsilon: 0, steps: 0, evaluation: null, dataReport: null, audit: null, message: reservation.message };
      if (!ui) return refused;
      // Nothing was held or spent, so nothing is recorded in S3: the same job may run once the
      // budget is raised (a reset). The result travels with the failure and the jobResult query.
      end.result = refused;
      showStage(ui, 'budget-exhausted', 0);
      throw ApplicationFailure.create({ type: Failure.BudgetExhausted, message: reservation.message, nonRetryable: true, details: [refused] });
    }
  }

  // Training, the data report and evaluation touch the data. If one is cancelled or fails, the
  // reservation is settled at what the last checkpoint spent (after training, that is the final
  // checkpoint) plus the releases already made.
  let data;
  let trained;
  let dataReport;
  let evaluation;
  let releasedEpsilon = 0;
  try {
    showStage(ui, 'training');
    data = await light.prepareTrainingData({ jobId, dataset: job.dataset, preprocessing: spec.preprocessing, textColumn: spec.textColumn, split: spec.split, maxSeqLen: spec.model.maxSeqLen, insertCanaries });
    trained = await train({ jobId, data, model: spec.model, training });
    // Not cancellable: once the noisy counts exist they are in history, and so must be their ε.
    // (Runs started before the report existed replay without it.)
    showStage(ui, 'evaluating');
    if (patched(DATA_REPORT_PATCH)) {
      dataReport = await CancellationScope.nonCancellable(() => light.releaseDataReport({ jobId, epsilon: dp ? DATA_REPORT_EPSILON : null }));
      if (dp) releasedEpsilon += DATA_REPORT_EPSILON;
    }
    evaluation = await gpu.evaluateModel({ jobId, checkpointStep: trained.checkpoint.step, base: spec.model, dataPrefix: data.prefix, evaluationEpsilon: dp ? EVALUATION_EPSILON : null });
  } catch (err) {
    // Cancelled or failed after touching the data: charge what the last checkpoint spent.
    const spent = await CancellationScope.nonCancellable(async () => {
      const s = await light.spentSoFar({ jobId });
      const epsilon = typeof s.epsilon === 'number' ? s.epsilon + releasedEpsilon : s.epsilon;
      if (dp) await light.commitBudget({ ...budgetKey, epsilonSpent: typeof epsilon === 'number' ? epsilon : 0 });
      return { ...s, epsilon };
    });
    if (isCancellation(err)) {
      const epsilonText = typeof spent.epsilon === 'number' ? spent.epsilon.toFixed(2) : spent.epsilon;
      const cancelled: FineTuneResult = {
        ...base, modelId: '', status: 'cancelled', epsilon: spent.epsilon, steps: spent.step, evaluation: null, dataReport: dataReport ?? null, audit: null,
        message: `cancelled after step ${spent.step}; its checkpoint is kept and ε=${epsilonText} was charged`,
      };
      if (!ui) return cancelled;
      // Settled: kept in S3 (a rerun or reset finds it), then the cancellation ends the workflow.
      end.result = await CancellationScope.nonCancellable(() => light.recordJobResult(cancelled));
    }
    throw err;
  }

  const ckpt = trained.checkpoint;
  const epsilon = typeof ckpt.epsilon === 'number' ? ckpt.epsilon + releasedEpsilon + EVALUATION_EPSILON : 'unlimited';
  // The evaluation's noisy loss is in the history now, so its ε is spent too: a cancellation that
  // arrives here must not leave the reservation unsettled (a cancelled scope refuses new activities).
  if (typeof epsilon === 'number') await CancellationScope.nonCancellable(() => light.commitBudget({ ...budgetKey, epsilonSpent: epsilon }));

  await light.registerModel({
    jobId,
    checkpointStep: ckpt.step,
    base: spec.model,
    privacy: {
      jobId,
      analyst: spec.analyst,
      dataset: { name: data.dataset.name, version: data.dataset.version },
      base: spec.model.base,
      initialization: job.baseModel.initialization,
      epsilon,
      delta: ckpt.delta,
      noiseMultiplier: ckpt.noiseMultiplier,
      maxGradNorm: dp ? spec.training.maxGradNorm : null,
      samplingRate: plan.samplingRate,
      steps: ckpt.step,
      accountant: plan.accountant,
      trainRows: data.trainRows,
      evaluation: { testLoss: evaluation.testLoss, perplexity: evaluation.perplexity, epsilon: evaluation.epsilon },
    },
  });
  // The audit reads the registered model; a failed audit does not undo a trained model (it can
  // be rerun on its own), so it is reported as missing rather than failing the job.
  let audit = null;
  showStage(ui, 'auditing');
  try {
    audit = (await gpu.auditModel({ modelId: jobId, jobId, dataPrefix: data.prefix })).summary;
  } catch (err) {
    if (isCancellation(err)) throw err;
    log.warn('privacy audit failed', { jobId, error: err instanceof Error ? err.message : String(err) });
  }
  const label = typeof epsilon === 'number' ? `Differentially-private evaluation (epsilon=${epsilon.toFixed(2)})` : 'Non-private evaluation (epsilon=unlimited)';
  const result = await light.recordJobResult({
    ...base,
    baseModel: job.baseModel,
    status: 'completed',
    epsilon,
    delta: ckpt.delta,
    steps: ckpt.step,
    evaluation: { testLoss: evaluation.testLoss, perplexity: evaluation.perplexity },
    dataReport: dataReport ?? null,
    audit,
    message: `${label}: test loss ${evaluation.testLoss.toFixed(3)}, perplexity ${evaluation.perplexity.toFixed(1)}`,
  });
  showStage(ui, 'completed', result.epsilon);
  return result;
}
