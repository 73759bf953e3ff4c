// Learning rate as a pure function of the step, so a resumed run needs no scheduler state.
// Linear warm-up then linear decay, as transformers' get_linear_schedule_with_warmup, with one
// deliberate difference: warm-up counts from (step + 1), so step 0 already moves the weights.
// Under DP every step spends privacy budget; a first step at lr = 0 would spend it for nothing.

export interface LinearScheduleConfig {
  peakLr: number;
  warmupSteps: number;
  totalSteps: number;
  /** The rate decay heads for at totalSteps; default 0. */
  floorLr?: number;
}

/** lr for update number `step` (0-based): peak·(step+1)/warmup during warm-up, then linear from peak at `warmupSteps` to floor at `totalSteps`. */
export function linearWarmupDecay(step: number, config: LinearScheduleConfig): number {
  const { peakLr, warmupSteps, totalSteps } = config;
  const floorLr = config.floorLr ?? 0;
  if (!Number.isInteger(step) || step < 0) throw new RangeError(`linearWarmupDecay: step must be a non-negative integer, got ${step}`);
  if (!Number.isInteger(warmupSteps) || warmupSteps < 0 || !Number.isInteger(totalSteps) || totalSteps < 1 || warmupSteps > totalSteps) {
    throw new RangeError(`linearWarmupDecay: need integers 0 ≤ warmupSteps (${warmupSteps}) ≤ totalSteps (${totalSteps}), totalSteps ≥ 1`);
  }
  if (!(floorLr >= 0 && floorLr <= peakLr)) throw new RangeError(`linearWarmupDecay: need 0 ≤ floorLr (${floorLr}) ≤ peakLr (${peakLr})`);
  if (step < warmupSteps) return (peakLr * (step + 1)) / warmupSteps;
  if (step >= totalSteps || totalSteps === warmupSteps) return floorLr;
  return floorLr + ((peakLr - floorLr) * (totalSteps - step)) / (totalSteps - warmupSteps);
}
