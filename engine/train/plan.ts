// From a TrainConfig to the numbers a run follows: q = batchSize / N, the step count, δ and the
// noise multiplier σ calibrated so that the whole run spends at most the target ε.
import { calibrateNoise } from '../privacy/index.ts';
import type { AccountantKind, RunPlan, TrainConfig } from './types.ts';

export class TrainConfigError extends Error {
  readonly exitCode = 2;
  constructor(message: string) {
    super(message);
    this.name = 'TrainConfigError';
  }
}

export const DEFAULT_PHYSICAL_BATCH_SIZE = 16;
export const DEFAULT_ACCOUNTANT: AccountantKind = 'prv';

/**
 * δ = 1 / N^1.1: below 1/N (a mechanism that publishes one random row whole satisfies
 * (0, 1/N)-DP, so δ must be well under 1/N), shrinking a little faster than 1/N as data grows.
 */
export function defaultDelta(rowCount: number): number {
  return 1 / rowCount ** 1.1;
}

function check(condition: boolean, message: string): void {
  if (!condition) throw new TrainConfigError(message);
}

export function validateConfig(config: TrainConfig): void {
  const { rowCount, batchSize, epochs, maxGradNorm, lr, targetEpsilon } = config;
  check(Number.isSafeInteger(rowCount) && rowCount >= 1, `rowCount must be an integer ≥ 1, got ${rowCount}`);
  check(batchSize > 0 && batchSize <= rowCount, `batchSize (expected) must be in (0, rowCount = ${rowCount}], got ${batchSize}`);
  check(epochs > 0 && Number.isFinite(epochs), `epochs must be a positive number, got ${epochs}`);
  check(lr >= 0 && Number.isFinite(lr), `lr must be a non-negative number, got ${lr}`);
  check(targetEpsilon === 'unlimited' || (typeof targetEpsilon === 'number' && targetEpsilon > 0 && Number.isFinite(targetEpsilon)),
    `targetEpsilon must be a positive number or 'unlimited', got ${String(targetEpsilon)}`);
  if (targetEpsilon !== 'unlimited') {
    check(maxGradNorm > 0 && Number.isFinite(maxGradNorm), `maxGradNorm must be a positive number, got ${maxGradNorm}`);
    const delta = config.delta ?? defaultDelta(rowCount);
    check(delta > 0 && delta < 1, `delta must be in (0, 1), got ${delta}`);
  }
  const physical = config.physicalBatchSize ?? DEFAULT_PHYSICAL_BATCH_SIZE;
  check(Number.isSafeInteger(physical) && physical >= 1, `physicalBatchSize must be an integer ≥ 1, got ${physical}`);
  const warmup = config.warmupSteps ?? 0;
  check(Number.isSafeInteger(warmup) && warmup >= 0, `warmupSteps must be an integer ≥ 0, got ${warmup}`);
  const minLr = config.minLr ?? 0;
  check(minLr >= 0 && minLr <= lr, `minLr must be in [0, lr], got ${minLr}`);
  const every = config.checkpointEvery ?? 0;
  check(Number.isSafeInteger(every) && every >= 0, `checkpointEvery must be an integer ≥ 0, got ${every}`);
  check(config.accountant === undefined || config.accountant === 'rdp' || config.accountant === 'prv', `accountant must be 'rdp' or 'prv', got ${String(config.accountant)}`);
}

export function totalStepsOf(config: TrainConfig): number {
  return Math.max(1, Math.round((config.epochs * config.rowCount) / config.batchSize));
}

/** Validates the config and calibrates σ (the slow part: a few ε evaluations of the accountant). */
export function planRun(config: TrainConfig): RunPlan {
  validateConfig(config);
  const samplingRate = config.batchSize / config.rowCount;
  const totalSteps = totalStepsOf(config);
  check(totalSteps >= (config.warmupSteps ?? 0), `warmupSteps (${config.warmupSteps}) exceeds the run's ${totalSteps} steps`);
  if (config.targetEpsilon === 'unlimited') {
    return { samplingRate, totalSteps, noiseMultiplier: 0, delta: null, accountant: null, plannedEpsilon: Infinity };
  }
  const delta = config.delta ?? defaultDelta(config.rowCount);
  const accountant = config.accountant ?? DEFAULT_ACCOUNTANT;
  const calibration = calibrateNoise({ accountant, targetEpsilon: config.targetEpsilon, sampleRate: samplingRate, steps: totalSteps, delta });
  if (!(calibration.epsilon <= config.targetEpsilon)) {
    throw new TrainConfigError(`calibration returned ε = ${calibration.epsilon} above the target ${config.targetEpsilon}`);
  }
  return { samplingRate, totalSteps, noiseMultiplier: calibration.noiseMultiplier, delta, accountant, plannedEpsilon: calibration.epsilon };
}
