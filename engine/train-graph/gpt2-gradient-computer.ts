// engine/train's GradientComputer for GPT-2: a micro-batch of row indices → one session.run of the
// training-step graph (forward, backward and, when private, book-keeping clipping), whose gradient
// sums onnxruntime writes straight into the trainer's buffers when they hold nothing yet (a step's
// first micro-batch), else returns to be added. Measured (a 6-layer GPT-2-small shape): writing in
// place saves half a weight copy on the first micro-batch; a scratch copy to write later ones into
// cost 1.5 copies where the returned gradients cost 1, so those are returned.
import type { Gpt2Config } from '../gpt2/config.ts';
import { parameterShapes } from '../gpt2/weights.ts';
import type { SessionConfig } from '../onnx/index.ts';
import type { ClippingMode, GradientComputer, MicroBatchContext, MicroBatchStats, ParamSpec } from '../train/types.ts';
import type { GhostPolicy } from './ghost-norms.ts';
import type { ExampleLoss } from './lm-loss.ts';
import { accumulateStep, gradTargets, padTokenRows } from './micro-batch.ts';
import { TrainStepSession, type ParamValue } from './train-step-session.ts';

export interface Gpt2GradientComputerOptions {
  config: Gpt2Config;
  /** The training rows as token ids (row index i of the trainer is rows[i]). */
  rows: readonly ArrayLike<number>[];
  /** Tokens per example the graph is built for; longer rows are cut to it. Default: the longest row, at most n_positions. */
  seqLen?: number;
  /**
   * Sequence lengths to build graphs for (each ≤ seqLen; seqLen is always added): a micro-batch is
   * padded to the shortest that holds its longest row, so short rows do not pay for seqLen.
   * Each length is one more session (memory); default [seqLen] only.
   */
  lengthBuckets?: readonly number[];
  /** Per-example loss: 'sum' over target tokens (engine/train's contract, default) or 'mean'. */
  exampleLoss?: ExampleLoss;
  /** Any id below the vocabulary; padded positions are masked, so its value never matters. */
  padTokenId?: number;
  ghost?: GhostPolicy;
  session?: SessionConfig;
  /**
   * Private micro-batches run every sampled slot, empty ones as fully masked rows of zero weight,
   * at the full seqLen: a step then costs the same whatever the slots hold (how many sampled rows
   * are usable, and how long they are, is private). Default true; false skips empty slots.
   */
  constantCost?: boolean;
}

/** Hugging Face's convention (and GPT-2 fine-tuning recipes'): no weight decay on biases and LayerNorm. */
const decays = (name: string): boolean => !name.endsWith('.bias') && !/(^|\.)ln_(\d+|f)\.weight$/.test(name);

export class Gpt2GradientComputer implements GradientComputer {
  readonly paramSpecs: readonly ParamSpec[];
  readonly seqLen: number;
  private readonly buckets: number[];
  private readonly sessions = new Map<string, Promise<TrainStepSession>>();

  constructor(private readonly options: Gpt2GradientComputerOptions) {
    const { config, rows } = options;
    this.paramSpecs = parameterShapes(config).map(([name, shape]) => ({ name, shape, weightDecay: decays(name) }));
    const longest = rows.reduce((m, r) => Math.max(m, r.length), 0);
    this.seqLen = options.seqLen ?? Math.min(Math.max(longest, 2), config.nPositions);
    if (!Number.isInteger(this.seqLen) || this.seqLen < 2 || this.seqLen > config.nPositions) throw new RangeError(`seqLen ${this.seqLen} must be in [2, ${config.nPositions}]`);
    this.buckets = [...new Set([...(options.lengthBuckets ?? []), this.seqLen])].filter((t) => t >= 2 && t <= this.seqLen).sort((a, b) => a - b);
    const pad = options.padTokenId ?? 0;
    if (!(Number.isInteger(pad) && pad >= 0 && pad < config.vocabSize)) throw new RangeError(`padTokenId ${pad} is not a token id`);
    rows.forEach((row, i) => {
      for (let t = 0; t < row.length; t++) {
        const id = row[t];
        if (!(Number.isInteger(id) && id >= 0 && id < config.vocabSize)) throw new RangeError(`row ${i}, token ${t}: ${id} is not a token id below ${config.vocabSize}`);
      }
    });
  }

  async computeMicroBatch(
    params: readonly Float32Array[], rows: readonly number[], mode: ClippingMode, gradSum: readonly Float32Array[], context: MicroBatchContext = {},
  ): Promise<MicroBatchStats> {
    if (params.length !== this.paramSpecs.length || gradSum.length !== this.paramSpecs.length) {
      throw new RangeError(`expected ${this.paramSpecs.length} parameter and gradient tensors, got ${params.length} and ${gradSum.length}`);
    }
    this.bucketFor(rows); // checks every index
    // A row shorter than 2 tokens has nothing to predict: its gradient is zero, clipped or not.
    // Empty slots (rows the preprocessing rejected) are such rows; they count as examples.
    const constantCost = mode !== 'nonprivate' && this.options.constantCost !== false;
    const live = constantCost ? [...rows] : rows.filter((i) => this.options.rows[i].length >= 2);
    if (live.length === 0) return { lossSum: 0, tokenCount: 0, exampleCount: rows.length };
    const T = constantCost ? this.seqLen : this.bucketFor(live);
    const session = await this.session(mode === 'nonprivate' ? 'sum' : 'clipped', T);
    const weights = new Map<string, ParamValue>(this.paramSpecs.map((s, k) => [s.name, { shape: s.shape, data: params[k] }]));
    const into = context.gradSumIsZero ? gradTargets(this.paramSpecs, gradSum) : undefined;
    const result = await session.run(weights, padTokenRows(this.options.rows, live, T, this.options.padTokenId), mode === 'nonprivate' ? undefined : mode.clipNorm, into);
    const { lossSum, tokenCount } = accumulateStep(this.paramSpecs, result, gradSum, this.options.exampleLoss);
    return { lossSum, tokenCount, exampleCount: rows.length };
  }

  /** Frees the native sessions (a later call rebuilds them). */
  async release(): Promise<void> {
    const sessions = [...this.sessions.values()];
    this.sessions.clear();
    for (const s of sessions) await (await s).release();
  }

  private bucketFor(rows: readonly number[]): number {
    let longest = 0;
    for (const i of rows) {
      const row = this.options.rows[i];
      if (row === undefined) throw new RangeError(`row index ${i} is outside the ${this.options.rows.length} rows`);
      longest = Math.max(longest, row.length);
    }
    return this.buckets.find((t) => t >= longest) ?? this.seqLen;
  }

  private session(mode: 'sum' | 'clipped', seqLen: number): Promise<TrainStepSession> {
    const key = `${mode}:${seqLen}`;
    let s = this.sessions.get(key);
    if (!s) {
      const o = this.options;
      s = TrainStepSession.create(o.config, { seqLen, mode, exampleLoss: o.exampleLoss, ghost: o.ghost }, o.session);
      this.sessions.set(key, s);
    }
    return s;
  }
}
