// The contracts of DP-SGD training: what a model must provide (GradientComputer), what a run is
// configured with (TrainConfig, serialisable: it travels to a worker thread and into every
// checkpoint), what it reports (ProgressEvent) and what it leaves behind (Checkpoint).
import type { NoiseState, SamplerState } from '../dp/index.ts';
import type { OptimizerConfig, OptimizerState } from '../optim/index.ts';

/** One parameter tensor of a model, in the order of every Float32Array[] the trainer passes. */
export interface ParamSpec {
  /** Unique name, e.g. `transformer.h.0.attn.c_attn.weight`; names tensors in checkpoints. */
  name: string;
  shape: readonly number[];
  /** Whether weight decay applies; default true. GPT-2 convention: false for biases and LayerNorm. */
  weightDecay?: boolean;
}

/** Private: clip each example's gradient to L2 norm clipNorm over all parameters. Non-private: no clipping. */
export type ClippingMode = { clipNorm: number } | 'nonprivate';

export interface MicroBatchStats {
  /** Sum over the micro-batch of each example's loss summed over its tokens. */
  lossSum: number;
  /** Tokens the loss was summed over (loss per token = lossSum / tokenCount). */
  tokenCount: number;
  /** Examples processed: rows.length. */
  exampleCount: number;
}

/** What the trainer tells a GradientComputer about one call. */
export interface MicroBatchContext {
  /**
   * gradSum holds only zeros (the step's first micro-batch): the computer may write its sums
   * there instead of adding them, e.g. have onnxruntime write its outputs into gradSum directly
   * rather than return a weight-sized copy to add. Ignoring it is correct too.
   */
  gradSumIsZero?: boolean;
}

/**
 * A model's gradients, one physical micro-batch at a time. The GPT-2 training graphs implement
 * it with ghost-norm clipping; tests implement it with exact per-example gradients in JS.
 */
export interface GradientComputer {
  readonly paramSpecs: readonly ParamSpec[];
  /**
   * Forward and backward over the rows with these indices (0 ≤ index < rowCount), ADDING into
   * `gradSum[k]` (same order and sizes as paramSpecs; the trainer zeroes it once per step):
   *   mode {clipNorm: C}: Σ_examples g_e · min(1, C / (‖g_e‖ + 1e-6)), ‖g_e‖ the L2 norm of
   *     example e's gradient over ALL parameters (engine/dp clipFactor);
   *   mode 'nonprivate': Σ_examples g_e.
   * A per-example gradient is that of the example's loss summed over its tokens. Accumulating in
   * place keeps one gradient buffer per run however many micro-batches a step has.
   * Must be deterministic for bit-identical resume. Never called with an empty `rows`.
   */
  computeMicroBatch(
    params: readonly Float32Array[],
    rows: readonly number[],
    mode: ClippingMode,
    gradSum: readonly Float32Array[],
    context?: MicroBatchContext,
  ): Promise<MicroBatchStats>;
  /** Frees native resources (ORT sessions); the worker runner calls it when the run ends. */
  release?(): void | Promise<void>;
}

export type AccountantKind = 'rdp' | 'prv';

/** Everything that determines a run's result. Plain JSON: goes to the worker and into checkpoints. */
export interface TrainConfig {
  /** N, the number of training rows; the model maps row indices 0..N−1 to its data. */
  rowCount: number;
  /** Target ε for the whole run, or 'unlimited' for non-private training (no clipping, no noise). */
  targetEpsilon: number | 'unlimited';
  /** δ; default 1 / N^1.1 (below 1/N, as δ must be for a meaningful guarantee). Ignored when unlimited. */
  delta?: number;
  /** Expected logical batch size q·N: each row joins a step with probability q = batchSize / N. */
  batchSize: number;
  /** Passes over the data in expectation: steps = round(epochs · N / batchSize), at least 1. */
  epochs: number;
  /** C, the per-example clipping norm. Ignored when unlimited. */
  maxGradNorm: number;
  /** Peak learning rate. */
  lr: number;
  /** Linear warm-up steps (default 0), then linear decay to minLr at the last step. */
  warmupSteps?: number;
  /** Learning rate the decay heads for (default 0). */
  minLr?: number;
  /** Default AdamW (β 0.9/0.999, ε 1e-8, weight decay 0.01, as torch). */
  optimizer?: OptimizerConfig;
  /** Rows per physical micro-batch (bounds memory); default 16. */
  physicalBatchSize?: number;
  /** Default 'prv' (the tight accountant; Opacus's default too). */
  accountant?: AccountantKind;
  /** Emit a checkpoint every this many steps (0 or absent: only on cancel and at the end). */
  checkpointEvery?: number;
}

/** What the run derived from its config before step 0. Stored in checkpoints; a resumed run uses it as is. */
export interface RunPlan {
  samplingRate: number;
  totalSteps: number;
  /** σ (0 when unlimited): noise std = σ · maxGradNorm on the clipped sum. */
  noiseMultiplier: number;
  /** null when unlimited. */
  delta: number | null;
  accountant: AccountantKind | null;
  /** ε the whole run spends (≤ target), Infinity when unlimited. */
  plannedEpsilon: number;
}

export interface ProgressEvent {
  /** Steps completed so far (1 after the first step). */
  step: number;
  totalSteps: number;
  /**
   * Mean loss per token over this step's sampled rows; null for an empty batch.
   * NOT differentially private: computed from raw training rows. For operators and logs of the
   * data owner, never for analysts (the DP model and ε are what analysts may see).
   */
  loss: number | null;
  /** ε spent after `epsilonStep` steps (Infinity when unlimited). */
  epsilon: number;
  /**
   * The step `epsilon` is exact for: `step` itself with the RDP accountant; with PRV (0.1–1 s
   * per evaluation) ε is evaluated every ⌈totalSteps/100⌉ steps, at checkpoints and at the end,
   * and the latest value is repeated in between.
   */
  epsilonStep: number;
  delta: number | null;
  lr: number;
  /** Rows Poisson-sampled this step (a function of the sampler only, not of the data). */
  batchRows: number;
  /** Since train() started (this process; a resumed run restarts the clock). */
  elapsedMs: number;
}

export const CHECKPOINT_FORMAT = 'veil-dp-checkpoint';
export const CHECKPOINT_VERSION = 1;

/**
 * A resumable snapshot after `step` completed steps. Tensors are copies owned by the
 * checkpoint, or, with TrainOptions.liveCheckpoints, the run's own buffers until onCheckpoint settles. The run key is NOT in it (only a one-way fingerprint to catch a wrong key on resume).
 */
export interface Checkpoint {
  format: typeof CHECKPOINT_FORMAT;
  version: typeof CHECKPOINT_VERSION;
  step: number;
  paramSpecs: ParamSpec[];
  params: Float32Array[];
  optimizerState: OptimizerState;
  samplerState: SamplerState;
  noiseState: NoiseState;
  /** JSON of engine/privacy's accountant; null when unlimited. */
  accountantState: unknown;
  /** ε spent after `step` steps (Infinity when unlimited). */
  epsilon: number;
  rngVersion: string;
  keyFingerprint: string;
  config: TrainConfig;
  plan: RunPlan;
}

export interface TrainCallbacks {
  onProgress?(event: ProgressEvent): void;
  /** Awaited: training pauses until it settles (so uploads cannot pile up snapshots in memory). */
  onCheckpoint?(checkpoint: Checkpoint): void | Promise<void>;
}

export interface TrainResult {
  status: 'completed' | 'cancelled';
  step: number;
  totalSteps: number;
  epsilon: number;
  delta: number | null;
  noiseMultiplier: number;
  /** The trained parameters (the live buffers the run updated). */
  params: Float32Array[];
}
