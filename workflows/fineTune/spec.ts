// What an analyst asks for when fine-tuning: the fineTune workflow's input, as zod schemas (the
// workflow validates raw JSON from the UI, a schedule or the SDK against it).
import { z } from 'zod';
import type { AnalystAuditSummary } from '../../engine/audit/report.ts';
import type { DataReport } from '../../activities/training/dataReport.ts';
import { requestAuthSchema } from '../validation.ts';

const name = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'lowercase letters, digits, _ and -, at most 63 characters');
const idPart = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._@-]{0,127}$/, 'letters, digits, . _ @ -, at most 128 characters');

export const splitSchema = z.discriminatedUnion('kind', [
  /** A seeded shuffle, then the first (1 − testFraction) for training. */
  z.object({ kind: z.literal('ratio'), testFraction: z.number().gt(0).lt(1), shuffleSeed: z.string().min(1).default('veil') }),
  /** Rows [0, testFrom) train, [testFrom, N) test, in the dataset's order. */
  z.object({ kind: z.literal('index'), testFrom: z.number().int().positive() }),
]);
export type SplitSpec = z.output<typeof splitSchema>;

/** A traced analyst function (engine/sandbox trace()): re-verified before it runs, in a sandbox. */
export const tracedSchema = z.object({
  kind: z.literal('veil.traced'),
  version: z.literal(1),
  source: z.string().min(1).max(100_000),
  name: z.string(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});

/** Preprocessing, applied in order to every row before tokenization. */
export const preprocessingStepSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('rename'), from: z.string().min(1), to: z.string().min(1) }),
  /** Replaces `column` by fn(value), run in the sandbox; a row whose call fails is dropped (counted). */
  z.object({ kind: z.literal('map'), column: z.string().min(1), fn: tracedSchema }),
]);
export type PreprocessingStep = z.output<typeof preprocessingStepSchema>;

/** ε for releasing a DP model's held-out loss (Laplace mechanism), taken out of the target ε. */
export const EVALUATION_EPSILON = 0.2;
/** ε for releasing the data report (how many rows the preprocessing rejected), out of the target too. */
export const DATA_REPORT_EPSILON = 0.05;
/** What a DP job spends besides training: its target must leave at least as much for training. */
export const RELEASES_EPSILON = EVALUATION_EPSILON + DATA_REPORT_EPSILON;

export const trainingSchema = z.object({
  /** A finite ε, or 'unlimited' (no DP: privileged analysts only). */
  targetEpsilon: z.union([
    z.number().finite().gt(2 * RELEASES_EPSILON, `must be above ${2 * RELEASES_EPSILON} (ε=${RELEASES_EPSILON} of it goes to the DP evaluation and the data report)`),
    z.literal('unlimited'),
  ]),
  /** δ; default 1/N^1.1 of the training rows. */
  delta: z.number().gt(0).lt(1).optional(),
  /** Expected logical batch size (Poisson sampling with q = batchSize / N). */
  batchSize: z.number().int().positive(),
  epochs: z.number().positive().max(1000),
  maxGradNorm: z.number().positive().finite().default(1),
  lr: z.number().positive().max(10).default(5e-4),
  warmupSteps: z.number().int().nonnegative().default(0),
  physicalBatchSize: z.number().int().positive().max(1024).default(16),
  accountant: z.enum(['rdp', 'prv']).default('prv'),
  /** Steps between S3 checkpoints (a retried train activity resumes from the last one). */
  checkpointEvery: z.number().int().positive().default(20),
});

export const modelSchema = z.object({
  /**
   * The starting point: a GPT-2 size (gpt2, gpt2-medium, …, tiny, micro) initialised from `seed`
   * or loaded from the local Hugging Face cache when it holds that checkpoint, or `models/<id>`
   * for a model Veil registered before.
   */
  base: z.string().min(1),
  seed: z.string().min(1).default('veil'),
  /** Rows are tokenized and cut to this many tokens (the end-of-text token included). */
  maxSeqLen: z.number().int().min(2).max(1024).default(64),
});

export const fineTuneSchema = z.object({
  /** Idempotency key for the privacy charge; defaults to the workflow id. */
  jobId: idPart.optional(),
  analyst: idPart,
  dataset: z.object({ name, version: z.number().int().positive().optional() }),
  preprocessing: z.array(preprocessingStepSchema).max(32).default([]),
  /** The text column the language model learns from (after preprocessing). */
  textColumn: z.string().min(1),
  split: splitSchema.default({ kind: 'ratio', testFraction: 0.1, shuffleSeed: 'veil' }),
  model: modelSchema,
  training: trainingSchema,
  /**
   * Seconds the train activity may go without a heartbeat before the server counts its worker as
   * lost and retries it (from the last checkpoint) on another; it heartbeats every 2 s. 30 s in
   * production; fault tests shorten it so that each killed worker costs seconds, not half a minute.
   */
  trainHeartbeatTimeoutSeconds: z.number().int().min(5).max(600).default(30),
  /** The analyst's signature of everything above (clients sign for you: VeilClient, `veil finetune`). */
  auth: requestAuthSchema.optional(),
});
export type FineTuneInput = z.input<typeof fineTuneSchema>;
export type FineTuneSpec = z.output<typeof fineTuneSchema>;

export interface FineTuneResult {
  jobId: string;
  modelId: string;
  status: 'completed' | 'cancelled' | 'budget-exhausted';
  /** ε spent (Infinity is reported as the string 'unlimited'). */
  epsilon: number | 'unlimited';
  delta: number | null;
  noiseMultiplier: number;
  steps: number;
  /** Train and test slots: the dataset's rows split, whatever the preprocessing rejected (see dataReport). */
  trainRows: number;
  testRows: number;
  /** Mean test loss per token and its perplexity, from the held-out rows. */
  evaluation: { testLoss: number; perplexity: number } | null;
  /**
   * How the preprocessing went on the real rows (failures per step, rows without text, rows cut),
   * with DP noise for a DP job; null when the job never got that far.
   */
  dataReport: DataReport | null;
  /**
   * The privacy audit's numbers an analyst may see (extraction, canary exposure; membership
   * inference only for a non-DP model), or null if it failed. The full report is the owner's.
   */
  audit: AnalystAuditSummary | null;
  message: string;
}
