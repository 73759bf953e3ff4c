// What both gradient computers (the full model's and DP-LoRA's) do around one session.run: pad the
// micro-batch's token rows into a batch, and fold the step's outputs into the trainer's gradient
// sums and loss totals.
import type { ParamSpec } from '../train/types.ts';
import type { ExampleLoss } from './lm-loss.ts';
import type { TokenBatch, TrainStepResult } from './train-step-session.ts';

/** Rows `indices` of `rows`, right-padded (or cut) to T tokens, with their attention mask. */
export function padTokenRows(rows: readonly ArrayLike<number>[], indices: readonly number[], T: number, padTokenId = 0): TokenBatch {
  const inputIds = new BigInt64Array(indices.length * T).fill(BigInt(padTokenId));
  const attentionMask = new BigInt64Array(indices.length * T);
  indices.forEach((index, b) => {
    const row = rows[index];
    const n = Math.min(row.length, T);
    for (let t = 0; t < n; t++) {
      inputIds[b * T + t] = BigInt(row[t]);
      attentionMask[b * T + t] = 1n;
    }
  });
  return { batchSize: indices.length, inputIds, attentionMask };
}

/** gradSum by parameter name, for a session to write the gradients into (checked against the specs' sizes). */
export function gradTargets(paramSpecs: readonly ParamSpec[], gradSum: readonly Float32Array[]): Map<string, Float32Array> {
  return new Map(paramSpecs.map((s, k) => {
    const size = s.shape.reduce((a, b) => a * b, 1);
    if (gradSum[k].length !== size) throw new RangeError(`gradSum[${k}] (${s.name}) has ${gradSum[k].length} values, expected ${size}`);
    return [s.name, gradSum[k]];
  }));
}

/**
 * Adds the step's gradients into `gradSum` (in `paramSpecs` order; a gradient that IS its gradSum
 * buffer was written there by the session) and returns its summed loss and target tokens.
 */
export function accumulateStep(paramSpecs: readonly ParamSpec[], result: TrainStepResult, gradSum: readonly Float32Array[], exampleLoss: ExampleLoss = 'sum'): { lossSum: number; tokenCount: number } {
  paramSpecs.forEach((s, k) => {
    const grad = result.grads.get(s.name)!;
    const into = gradSum[k];
    if (grad === into) return;
    if (into.length !== grad.length) throw new RangeError(`gradSum[${k}] (${s.name}) has ${into.length} values, expected ${grad.length}`);
    for (let i = 0; i < grad.length; i++) into[i] += grad[i];
  });
  let lossSum = 0;
  let tokenCount = 0;
  for (let b = 0; b < result.exampleLoss.length; b++) {
    const n = result.exampleTargets[b];
    lossSum += exampleLoss === 'mean' ? result.exampleLoss[b] * n : result.exampleLoss[b];
    tokenCount += n;
  }
  return { lossSum, tokenCount };
}
