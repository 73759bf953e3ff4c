// Held-out evaluation: mean token loss and perplexity of the trained model on the test rows.
// The test rows are private too, so for a DP model the reported loss is itself released with
// DP. Which test slots hold a usable row is private (prepare-data.ts), so the mean is released as
// a noisy sum over a noisy count: each row's mean token loss is clipped to [0, LOSS_BOUND], the sum
// (L1 sensitivity LOSS_BOUND, kept on an integer grid) gets discrete Laplace noise at ⅔ ε_eval and the count (sensitivity 1) at
// ⅓ ε_eval, the split that balances their relative errors for losses near LOSS_BOUND / 4.
// Noise comes from the CSPRNG; ε_eval is charged with the training ε.
import { randomBytes } from 'node:crypto';
import { releaseInteger } from '../../engine/dp/index.ts';
import { SecureStream } from '../../engine/random/secure-stream.ts';
import { runComputeInWorker } from '../shared/compute-worker.ts';
import type { BaseModelSpec } from './base-model.ts';
import type { HeldOutInput, HeldOutLosses } from './evaluate-worker.ts';
import { releaseOnce } from './releases.ts';

const EVALUATE_WORKER = new URL('./evaluate-worker.ts', import.meta.url);

// ln(50257) ≈ 10.8 is the loss of a uniform guess over GPT-2's vocabulary: a useful model is
// below it, and a smaller bound means less noise for the same ε.
export const LOSS_BOUND = 12;
/** The grid the DP loss sum is kept on (a power of two: every multiple is an exact double). */
const LOSS_GRID = 2 ** -10;

/**
 * A row's loss clipped to [0, LOSS_BOUND] in whole grid units. A NaN or infinite loss (a diverged
 * model) counts as the bound: refusing to release would itself tell that some test row made it so.
 */
function lossUnits(loss: number): number {
  const clipped = Number.isNaN(loss) ? LOSS_BOUND : Math.min(Math.max(loss, 0), LOSS_BOUND);
  return Math.round(clipped / LOSS_GRID);
}

export interface EvaluateInput {
  jobId: string;
  checkpointStep: number;
  base: BaseModelSpec;
  dataPrefix: string;
  /** ε for releasing the test loss; null for a non-DP ('unlimited') model: exact numbers. */
  evaluationEpsilon: number | null;
}

export interface Evaluation {
  testLoss: number;
  perplexity: number;
  rows: number;
  /** The ε this evaluation spent (null: not DP). */
  epsilon: number | null;
}

export async function evaluateModel(input: EvaluateInput): Promise<Evaluation> {
  // One release per job: a retry or rerun returns the loss drawn the first time.
  if (input.evaluationEpsilon === null) return evaluate(input);
  return releaseOnce(input.jobId, 'evaluation', () => evaluate(input));
}

async function evaluate(input: EvaluateInput): Promise<Evaluation> {
  // Loading and scoring run in a worker thread: this one keeps heartbeating and hears cancellation.
  const { losses, slots } = await runComputeInWorker<HeldOutInput, HeldOutLosses>(EVALUATE_WORKER, 'heldOutLosses', {
    jobId: input.jobId,
    checkpointStep: input.checkpointStep,
    base: input.base,
    dataPrefix: input.dataPrefix,
  });
  let sum = 0;
  // The DP sum is kept in whole grid units: integer arithmetic, then integer noise.
  let units = 0;
  for (const loss of losses) {
    sum += loss;
    units += lossUnits(loss);
  }
  let mean: number;
  if (input.evaluationEpsilon === null) {
    mean = losses.length > 0 ? sum / losses.length : LOSS_BOUND;
  } else {
    const noise = new SecureStream(randomBytes(32));
    const noisyUnits = releaseInteger(noise, units, (2 / 3) * input.evaluationEpsilon, LOSS_BOUND / LOSS_GRID);
    const noisyRows = releaseInteger(noise, losses.length, (1 / 3) * input.evaluationEpsilon);
    mean = Math.min(Math.max((noisyUnits * LOSS_GRID) / Math.max(noisyRows, 1), 0), LOSS_BOUND);
  }
  // The number of test slots, not of usable rows (that one is private).
  return { testLoss: mean, perplexity: Math.exp(mean), rows: slots, epsilon: input.evaluationEpsilon };
}
