// Held-out evaluation: mean token loss and perplexity of the trained model on the test rows.
// The test rows are private too, so for a DP model the reported loss is itself released with
// DP: each row's mean token loss is clipped to [0, LOSS_BOUND], and the mean over n rows (whose
// sensitivity to replacing one row is LOSS_BOUND / n) gets Laplace noise of scale
// LOSS_BOUND / (n · ε_eval) from the CSPRNG. That ε_eval is charged with the training ε.
import { randomBytes } from 'node:crypto';
import { Context } from '@temporalio/activity';
import { rowLosses, SequenceScorer } from '../../engine/audit/index.ts';
import { SecureStream } from '../../engine/random/secure-stream.ts';
import { sharedStore } from '../shared/resources.ts';
import type { BaseModelSpec } from './baseModel.ts';
import { trainedModel } from './finalModel.ts';
import { downloadTokenizedRows } from './tokenizedRows.ts';

// ln(50257) ≈ 10.8 is the loss of a uniform guess over GPT-2's vocabulary: a useful model is
// below it, and a smaller bound means less noise for the same ε.
export const LOSS_BOUND = 12;
const BATCH = 32;

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

function laplace(stream: SecureStream, scale: number): number {
  const u = stream.nextDouble() - 0.5;
  return -scale * Math.sign(u) * Math.log(1 - 2 * Math.abs(u));
}

export async function evaluateModel(input: EvaluateInput): Promise<Evaluation> {
  const ctx = Context.current();
  const store = await sharedStore();
  const scorer = await SequenceScorer.create(await trainedModel(store, input.jobId, input.checkpointStep, input.base));
  try {
    const rows = await downloadTokenizedRows(store, input.dataPrefix, 'test.tokens');
    let sum = 0;
    for (let i = 0; i < rows.length; i += BATCH) {
      for (const loss of await rowLosses(scorer, rows.slice(i, i + BATCH))) {
        sum += input.evaluationEpsilon === null ? loss : Math.min(Math.max(loss, 0), LOSS_BOUND);
      }
      ctx.heartbeat({ rows: i });
    }
    let mean = sum / rows.length;
    if (input.evaluationEpsilon !== null) {
      const noise = new SecureStream(randomBytes(32));
      mean = Math.min(Math.max(mean + laplace(noise, LOSS_BOUND / (rows.length * input.evaluationEpsilon)), 0), LOSS_BOUND);
    }
    return { testLoss: mean, perplexity: Math.exp(mean), rows: rows.length, epsilon: input.evaluationEpsilon };
  } finally {
    await scorer.release();
  }
}
