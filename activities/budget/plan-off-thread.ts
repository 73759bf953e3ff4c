// The noise calibration of a fine-tune, as the worker thread of plan.ts runs it: a bisection over
// the accountant that takes milliseconds for ordinary targets and far longer for extreme ones.
import { planRun, type RunPlan, type TrainConfig } from '../../engine/train/index.ts';

export function planRunOffThread(config: TrainConfig): RunPlan {
  return planRun(config);
}
