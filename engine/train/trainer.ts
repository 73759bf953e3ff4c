// The DP-SGD loop (Abadi et al. 2016, as Opacus runs it): at every step Poisson-sample the
// rows, add up their per-example gradients clipped to C in bounded micro-batches, add
// N(0, σ²C²) once to the sum, divide by the expected batch size q·N, and let the optimizer step.
// Every random draw is a function of (run key, step), and every piece of state is in the
// checkpoint, so a run resumed from step k ends bit-identical to one that never stopped.
// 'unlimited' runs the same loop without clipping and noise (mean over the sampled rows).
import { NoisePrefetcher, PoissonSampler, RunKey, privatizeGradientSum, runKeyFingerprint, splitIntoMicroBatches } from '../dp/index.ts';
import { OptimizerMemory, createOptimizer, linearWarmupDecay, optimizerSlotCount, scaledGradient, type LinearScheduleConfig, type Optimizer } from '../optim/index.ts';
import { DEFAULT_PHYSICAL_BATCH_SIZE, TrainConfigError, planRun } from './plan.ts';
import { PrivacyTracker } from './privacy-tracker.ts';
import { resumeState, takeSnapshot } from './snapshot.ts';
import type { Checkpoint, ClippingMode, GradientComputer, RunPlan, TrainCallbacks, TrainConfig, TrainResult } from './types.ts';

export interface TrainOptions {
  config: TrainConfig;
  model: GradientComputer;
  /** Starting weights, in paramSpecs order. Updated IN PLACE (no second copy of a large model); ignored when resuming. */
  initialParams?: Float32Array[];
  /**
   * The run's secret key: RunKey.generate(), kept with the run's secrets. Pass a RunKey (redacted
   * in JSON and logs); raw bytes are accepted and wrapped at once.
   */
  runKey: RunKey | Uint8Array;
  /** Continue this run from a checkpoint (same config, model and key). */
  resumeFrom?: Checkpoint;
  /** Polled after every step: when true, the run checkpoints and stops ('cancelled'). */
  shouldStop?: () => boolean;
  signal?: AbortSignal;
  /**
   * Draw each step's noise in a worker thread while the gradients are computed (same bits; a ring
   * of at most 512 MiB of memory). Default: on for DP runs of at least PREFETCH_MIN_PARAMETERS.
   */
  prefetchNoise?: boolean;
  /**
   * onCheckpoint receives the run's live weights and optimizer state instead of copies: valid
   * until the callback settles (the run waits for it), so a checkpoint costs no copy of them. The
   * callback copies whatever it keeps beyond that. Its `params` and optimizer slot arrays are the
   * run's own: a callback that moves their buffers elsewhere (another thread) puts tensors holding
   * the same values back into the same arrays before it settles.
   */
  liveCheckpoints?: boolean;
  /**
   * Hand resumeFrom over: its tensors become the run's buffers, updated in place, instead of being
   * copied; optimizer state the run keeps in its optimizer memory is copied there, and dropped from
   * resumeFrom so that it is not held twice.
   */
  adoptResumeState?: boolean;
  /**
   * Keep the gradient sum and the optimizer's state in the optimizer kernel's WebAssembly memory,
   * where the update reads and writes them in place (engine/optim/optimizer-memory.ts). Default:
   * on whenever they fit in its 4 GiB; the weights, checkpoints and results are the same bits.
   */
  optimizerMemory?: boolean;
}

/** Below this many parameters the noise takes milliseconds: not worth a thread and a buffer. */
export const PREFETCH_MIN_PARAMETERS = 1 << 20;

const DEFAULT_OPTIMIZER = { kind: 'adamw' } as const;
/** PRV evaluations of ε for progress reports per run, besides checkpoints and the end. */
const PRV_EVALUATIONS_PER_RUN = 100;

function zero(buffers: readonly Float32Array[]): void {
  for (const buffer of buffers) buffer.fill(0);
}

export async function train(options: TrainOptions, callbacks: TrainCallbacks = {}): Promise<TrainResult> {
  const started = performance.now();
  const { config, model } = options;
  const runKey = RunKey.from(options.runKey);
  const keyFingerprint = runKeyFingerprint(runKey);
  const specs = model.paramSpecs;
  const sizes = specs.map((s) => s.shape.reduce((a, b) => a * b, 1));
  const decayMask = specs.map((s) => s.weightDecay ?? true);
  const optimizerConfig = config.optimizer ?? DEFAULT_OPTIMIZER;
  // The gradient sum and each optimizer slot: one buffer per parameter tensor.
  const memory = options.optimizerMemory === false ? undefined : await OptimizerMemory.reserve(
    Array.from({ length: 1 + optimizerSlotCount(optimizerConfig) }, () => sizes).flat(),
  );

  let step: number;
  let params: Float32Array[];
  let plan: RunPlan;
  let tracker: PrivacyTracker;
  let optimizer: Optimizer;
  if (options.resumeFrom) {
    const resumed = resumeState(options.resumeFrom, config, specs, runKey, { adopt: options.adoptResumeState });
    ({ step, params, plan } = resumed);
    tracker = PrivacyTracker.resume(plan, resumed.accountantState);
    if (plan.accountant !== null && tracker.stepsRecorded !== step) throw new TrainConfigError(`checkpoint accountant has ${tracker.stepsRecorded} steps, expected ${step}`);
    optimizer = createOptimizer(optimizerConfig, sizes, decayMask, resumed.optimizerState, memory);
    if (memory && options.adoptResumeState) {
      for (const slot of Object.values(options.resumeFrom.optimizerState.slots)) slot.length = 0; // copied into memory
    }
  } else {
    plan = planRun(config);
    step = 0;
    if (!options.initialParams) throw new TrainConfigError('initialParams are required unless resuming');
    params = options.initialParams;
    params.forEach((p, k) => {
      if (p.length !== sizes[k]) throw new TrainConfigError(`initialParams[${k}] (${specs[k]?.name}) has ${p.length} values, expected ${sizes[k]}`);
    });
    if (params.length !== specs.length) throw new TrainConfigError(`initialParams has ${params.length} tensors, the model ${specs.length}`);
    tracker = PrivacyTracker.start(plan);
    optimizer = createOptimizer(optimizerConfig, sizes, decayMask, undefined, memory);
  }

  const isPrivate = plan.accountant !== null;
  const mode: ClippingMode = isPrivate ? { clipNorm: config.maxGradNorm } : 'nonprivate';
  const sampler = new PoissonSampler(runKey, config.rowCount, plan.samplingRate);
  const schedule: LinearScheduleConfig = { peakLr: config.lr, warmupSteps: config.warmupSteps ?? 0, totalSteps: plan.totalSteps, floorLr: config.minLr ?? 0 };
  const physicalBatchSize = config.physicalBatchSize ?? DEFAULT_PHYSICAL_BATCH_SIZE;
  const expectedBatchSize = plan.samplingRate * config.rowCount;
  const noiseStd = plan.noiseMultiplier * config.maxGradNorm;
  const gradSum = sizes.map((n) => memory?.allocate(n) ?? new Float32Array(n));
  let epsilon = tracker.epsilon();
  let epsilonStep = step;
  const epsilonEvery = plan.accountant === 'prv' ? Math.max(1, Math.ceil(plan.totalSteps / PRV_EVALUATIONS_PER_RUN)) : 1;
  const checkpointEvery = config.checkpointEvery ?? 0;

  const checkpoint = async (): Promise<void> => {
    epsilon = tracker.epsilon();
    epsilonStep = step;
    if (!callbacks.onCheckpoint) return;
    const snapshot = takeSnapshot({
      step, paramSpecs: specs, params, optimizerState: optimizer.state(), accountantState: tracker.state(), epsilon, keyFingerprint, config, plan,
    }, options.liveCheckpoints !== true);
    await callbacks.onCheckpoint(snapshot);
  };
  const stopRequested = (): boolean => options.signal?.aborted === true || options.shouldStop?.() === true;
  const result = (status: TrainResult['status']): TrainResult => ({
    status, step, totalSteps: plan.totalSteps, epsilon, delta: plan.delta, noiseMultiplier: plan.noiseMultiplier, params,
  });

  const totalParameters = sizes.reduce((a, b) => a + b, 0);
  const prefetch = isPrivate && step < plan.totalSteps && (options.prefetchNoise ?? totalParameters >= PREFETCH_MIN_PARAMETERS);
  const prefetcher = prefetch ? new NoisePrefetcher(runKey, totalParameters, noiseStd) : undefined;
  prefetcher?.request(step);
  try {
    while (step < plan.totalSteps) {
      if (stopRequested()) {
        await checkpoint();
        return result('cancelled');
      }
      // Every step happens, an empty batch included: the accountant counts them all.
      const rows = sampler.sampleStep(step);
      zero(gradSum);
      let lossSum = 0;
      let tokenCount = 0;
      let gradSumIsZero = true;
      for (const microBatch of splitIntoMicroBatches(rows, physicalBatchSize)) {
        const stats = await model.computeMicroBatch(params, microBatch, mode, gradSum, { gradSumIsZero });
        gradSumIsZero = false;
        if (stats.exampleCount !== microBatch.length) throw new Error(`gradient computer processed ${stats.exampleCount} examples of ${microBatch.length}`);
        lossSum += stats.lossSum;
        tokenCount += stats.tokenCount;
      }
      const lr = linearWarmupDecay(step, schedule);
      if (prefetcher) {
        // The optimizer adds the prefetched noise as it reads the gradient sum (the same bits as
        // privatizing it first); the next step's noise goes into the ring slots as they are read.
        const noise = prefetcher.noise(step, expectedBatchSize);
        if (step + 1 < plan.totalSteps) prefetcher.request(step + 1); // drawn during the optimizer and the next gradients
        await optimizer.step(params, gradSum, lr, noise);
      } else if (isPrivate) {
        await privatizeGradientSum(runKey, step, gradSum, noiseStd, expectedBatchSize);
        await optimizer.step(params, gradSum, lr);
      } else {
        await optimizer.step(params, gradSum, lr, scaledGradient(1 / Math.max(1, rows.length))); // the batch mean, read by the optimizer
      }
      tracker.recordStep();
      step += 1;
      const checkpointDue = checkpointEvery > 0 && step % checkpointEvery === 0 && step < plan.totalSteps;
      if (step % epsilonEvery === 0 || step === plan.totalSteps || checkpointDue) {
        epsilon = tracker.epsilon();
        epsilonStep = step;
      }
      if (typeof config.targetEpsilon === 'number' && epsilon > config.targetEpsilon) {
        throw new Error(`ε spent ${epsilon} exceeds the target ${config.targetEpsilon}: refusing to go on`); // cannot happen with a calibrated plan
      }
      callbacks.onProgress?.({
        step, totalSteps: plan.totalSteps, loss: tokenCount > 0 ? lossSum / tokenCount : null, epsilon, epsilonStep, delta: plan.delta, lr,
        batchRows: rows.length, elapsedMs: performance.now() - started,
      });
      if (checkpointDue) await checkpoint();
    }
  } finally {
    await prefetcher?.close();
  }
  await checkpoint();
  return result('completed');
}
