// The fineTune workflow's contract: what an analyst asks for (zod schemas: the workflow validates
// raw JSON from the UI, a schedule or the SDK against them), what each phase hands the next, and
// what the job returns. Workflows, activities and clients all read it from here.
import { z } from 'zod';
import type { AnalystAuditSummary } from '../engine/audit/report.ts';
import type { FailureCounts } from '../engine/sandbox/index.ts';
import { requestAuthSchema } from './access.ts';
import { MAX_INSERTED_CANARIES } from './audit.ts';
import { MODEL_REFERENCE_PREFIX, datasetNameSchema, idSchema, isValidId, principalIdSchema } from './ids.ts';

export const FINE_TUNE_WORKFLOW = 'fineTune';

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
  /** Replaces `column` by fn(value), run in the sandbox; a row whose call fails becomes an empty slot (counted). */
  z.object({ kind: z.literal('map'), column: z.string().min(1), fn: tracedSchema }),
]);
export type PreprocessingStep = z.output<typeof preprocessingStepSchema>;

/** ε for releasing a DP model's held-out loss (Laplace mechanism), taken out of the target ε. */
export const EVALUATION_EPSILON = 0.2;
/** ε for releasing the data report (how many rows the preprocessing rejected), out of the target too. */
export const DATA_REPORT_EPSILON = 0.05;
/** What a DP job spends besides training: its target must leave at least as much for training. */
export const RELEASES_EPSILON = EVALUATION_EPSILON + DATA_REPORT_EPSILON;

/**
 * The largest target ε Veil accepts. Beyond it a "DP" guarantee says nothing (e^100 bounds no
 * odds), and calibrating σ for it takes minutes of CPU: it is refused at the boundary instead.
 */
export const MAX_TARGET_EPSILON = 100;

export const trainingSchema = z.object({
  /** A finite ε, or 'unlimited' (no DP: privileged analysts only). */
  targetEpsilon: z.union([
    z
      .number()
      .finite()
      .gt(2 * RELEASES_EPSILON, `must be above ${2 * RELEASES_EPSILON} (ε=${RELEASES_EPSILON} of it goes to the DP evaluation and the data report)`)
      .max(MAX_TARGET_EPSILON, `must be at most ${MAX_TARGET_EPSILON}: a larger ε protects nothing ('unlimited' is the honest name for no privacy)`),
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
export type TrainingSpec = z.output<typeof trainingSchema>;

/** The GPT-2 sizes Veil knows (engine/gpt2's presets; a test keeps the two lists equal). */
export const GPT2_SIZES = ['gpt2', 'gpt2-medium', 'gpt2-large', 'gpt2-xl', 'small', 'medium', 'large', 'xl', 'tiny', 'micro'] as const;
/**
 * Sizes that exist only as random initialisations (no pretrained checkpoint of them exists), kept
 * as plain names for tests and the demo: `tiny` means `random:tiny`. Every other size names
 * OpenAI's pretrained weights, which must be in the local Hugging Face cache.
 */
export const RANDOM_ONLY_SIZES: readonly string[] = ['tiny', 'micro'];
/** `random:<size>`: the explicit way to start from a seeded random initialisation. */
export const RANDOM_INIT_PREFIX = 'random:';

/** A base model reference: a GPT-2 size (pretrained), `random:<size>`, or `models/<id>` for a model Veil registered. */
export const baseModelSchema = z.string().refine(
  (base) => {
    const size = base.startsWith(RANDOM_INIT_PREFIX) ? base.slice(RANDOM_INIT_PREFIX.length) : base;
    return (GPT2_SIZES as readonly string[]).includes(size) || (base.startsWith(MODEL_REFERENCE_PREFIX) && isValidId(base.slice(MODEL_REFERENCE_PREFIX.length)));
  },
  {
    message: `a base model is a pretrained GPT-2 (gpt2, gpt2-medium, gpt2-large, gpt2-xl, or small, medium, large, xl: from the local Hugging Face cache), random:<size> for random weights (${GPT2_SIZES.map((s) => RANDOM_INIT_PREFIX + s).join(', ')}; tiny and micro alone mean the same), or models/<id> of a registered model`,
  },
);

/** The projections of a GPT-2 block a LoRA adapter can sit on (engine/lora keeps the same list). */
export const LORA_TARGET_NAMES = ['attn.c_attn', 'attn.c_proj', 'mlp.c_fc', 'mlp.c_proj'] as const;

/**
 * DP-LoRA: train low-rank adapters (A [in, r], B [r, out], scale alpha/r) on these projections with
 * the base frozen; clipping and noise cover the adapters only. The registered model holds a PEFT
 * adapter (adapter/) and, with `merge` (default: sampling and the audit read full weights), the
 * merged full weights; `merge: false` stores the adapter alone.
 */
export const loraSchema = z
  .object({
    rank: z.number().int().min(1).max(1024),
    alpha: z.number().positive().finite().optional(),
    targets: z.array(z.enum(LORA_TARGET_NAMES)).min(1).default(['attn.c_attn', 'attn.c_proj'])
      .refine((t) => new Set(t).size === t.length, 'each target once'),
    merge: z.boolean().default(true),
  })
  .strict()
  .transform((l) => ({ ...l, alpha: l.alpha ?? 2 * l.rank }));
export type LoraOptions = z.output<typeof loraSchema>;

export const modelSchema = z.object({
  /**
   * The starting point: a pretrained GPT-2 (gpt2, …, gpt2-xl) from the local Hugging Face cache
   * (refused when it is not there: never silently random), `random:<size>` initialised from `seed`
   * (`tiny` and `micro` are random-only sizes), or `models/<id>` for a model Veil registered.
   */
  base: baseModelSchema,
  seed: z.string().min(1).default('veil'),
  /** Rows are tokenized and cut to this many tokens (the end-of-text token included). */
  maxSeqLen: z.number().int().min(2).max(1024).default(64),
  /** DP-LoRA instead of full fine-tuning. */
  lora: loraSchema.optional(),
});
export type ModelSpec = z.output<typeof modelSchema>;

export const fineTuneSchema = z.object({
  /** Idempotency key for the privacy charge; defaults to the workflow id. */
  jobId: idSchema.optional(),
  analyst: principalIdSchema,
  dataset: z.object({ name: datasetNameSchema, version: z.number().int().positive().optional() }),
  preprocessing: z.array(preprocessingStepSchema).max(32).default([]),
  /** The text column the language model learns from (after preprocessing). */
  textColumn: z.string().min(1),
  split: splitSchema.default({ kind: 'ratio', testFraction: 0.1, shuffleSeed: 'veil' }),
  model: modelSchema,
  training: trainingSchema,
  /**
   * The privacy audit: `insertCanaries` random canaries of Veil's making are added as extra training
   * slots, each filled with probability ½, for the one-run ε lower bound (engine/audit). The data
   * owner's own canaries are read from S3 (`veil datasets canaries add`), never from this input.
   */
  audit: z.object({ insertCanaries: z.number().int().min(0).max(MAX_INSERTED_CANARIES).default(0) }).strict().default({ insertCanaries: 0 }),
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

/** The phases of a fine-tune, in order: the activities the workflow runs (the CLI shows them). */
export const FINE_TUNE_PHASES = [
  { activity: 'authorize', label: 'checking the signed request' },
  { activity: 'prepareTrainingData', label: 'preparing the data' },
  { activity: 'planPrivacy', label: 'planning the privacy (σ for the target ε)' },
  { activity: 'reserveBudget', label: 'reserving ε on the ledger' },
  { activity: 'train', label: 'training' },
  { activity: 'releaseDataReport', label: 'releasing the data report (DP counts)' },
  { activity: 'evaluateModel', label: 'evaluating (DP-released test loss)' },
  { activity: 'spentSoFar', label: 'reading the ε spent so far' },
  { activity: 'commitBudget', label: 'charging the ε spent' },
  { activity: 'registerModel', label: 'registering the model' },
  { activity: 'auditModel', label: 'auditing the model' },
] as const;

/** What the preflight check learns before anything private is read: public facts only. */
export interface JobPlan {
  dataset: { name: string; version: number; rows: number };
  /** Train and test slots: functions of the public row count and the split. */
  trainRows: number;
  testRows: number;
  /** The δ the job will use (the request's, or 1/N^1.1 of the training slots). */
  delta: number;
  /** Where the weights start: a pretrained checkpoint (found in the local cache), random, or a registered model. */
  baseModel: { base: string; initialization: 'pretrained' | 'random' | 'registered' };
  /** The audit's inserted canaries: the request's, raised to the dataset owner's required minimum. */
  insertCanaries?: number;
}

/** What the workflow learns about the prepared data: public sizes only (it goes into history). */
export interface PreparedData {
  prefix: string;
  dataset: { name: string; version: number; rows: number };
  trainKey: string;
  testKey: string;
  /** Train slots: a function of the dataset's row count and the split, not of the data. */
  trainRows: number;
  testRows: number;
  /** The functions that ran (name, sha256); their failure counts are released by the data report. */
  preprocessing: { kind: string; function?: { name: string; sha256: string } }[];
}

/** How the preprocessing went on the real rows: DP counts for a DP job, exact ones otherwise. */
export interface DataReport {
  /** ε of this release; null when the counts are exact (non-DP job). */
  epsilon: number | null;
  skippedRows: number;
  truncatedRows: number;
  preprocessing: { kind: string; function?: { name: string; sha256: string }; failures?: FailureCounts }[];
  /**
   * Half-widths of the 95% intervals of the noise (DP reports): of each released count, and of a
   * function's failure total (the sum of its noisy kinds, wider). Absent for exact counts.
   */
  interval95?: { count: number; total: number };
  notice: string;
}

/** What the train activity heartbeats (the CLI's and SDK's progress). */
export interface TrainProgress {
  step: number;
  totalSteps: number;
  /**
   * Mean token loss of the step's batch. It is computed from raw rows and is not DP, so it is
   * reported only for non-private ('unlimited') runs; DP runs report null here and release a
   * DP test loss at the end instead.
   */
  loss: number | null;
  epsilon: number | 'unlimited';
  /** The last step committed to S3, where a retry resumes. */
  checkpointStep: number | null;
}

/** The details of the train activity's cancellation. */
export interface TrainCancellation {
  /** Steps done when the cancellation reached the activity. */
  cancelRequestedAfterStep: number;
  /** Steps done when it stopped (the step under way is finished, never a further one). */
  stoppedAfterStep: number;
  /** The checkpoint written on stopping: what the job is charged for. */
  checkpointStep: number;
}

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
  /**
   * Where the weights started: OpenAI's pretrained checkpoint, a random initialisation (asked for
   * with random:<size>, or the random-only sizes tiny and micro), or a registered model of the
   * analyst's (activities/training/base-model.ts baseModelInitialization). Absent on results of
   * jobs that ran before it was reported.
   */
  baseModel?: { base: string; initialization: 'pretrained' | 'random' | 'registered' };
}
