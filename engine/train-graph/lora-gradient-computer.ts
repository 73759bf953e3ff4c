// engine/train's GradientComputer for DP-LoRA: the trainer sees only the adapters (its parameters,
// noise, optimizer state and checkpoints are the adapters'), the frozen base weights stay here and
// are fed to every session.run unchanged. Micro-batches are formed as Gpt2GradientComputer forms
// them (constant cost for private steps: every sampled slot at the full length).
import type { Gpt2Config } from '../gpt2/config.ts';
import type { Gpt2Weights } from '../gpt2/weights.ts';
import { adapterShapes, type LoraSpec } from '../lora/adapters.ts';
import type { SessionConfig } from '../onnx/index.ts';
import type { ClippingMode, GradientComputer, MicroBatchStats, ParamSpec } from '../train/types.ts';
import type { GhostPolicy } from './ghost-norms.ts';
import type { ExampleLoss } from './lm-loss.ts';
import { accumulateStep, padTokenRows } from './micro-batch.ts';
import { TrainStepSession, type ParamValue } from './train-step-session.ts';

export interface LoraGradientComputerOptions {
  config: Gpt2Config;
  /** The frozen base model. */
  base: Gpt2Weights;
  lora: LoraSpec;
  rows: readonly ArrayLike<number>[];
  /** Default: the longest row, at most n_positions. */
  seqLen?: number;
  exampleLoss?: ExampleLoss;
  padTokenId?: number;
  ghost?: GhostPolicy;
  session?: SessionConfig;
}

export class LoraGradientComputer implements GradientComputer {
  readonly paramSpecs: readonly ParamSpec[];
  readonly seqLen: number;
  private readonly sessions = new Map<string, Promise<TrainStepSession>>();

  constructor(private readonly options: LoraGradientComputerOptions) {
    const { config, rows } = options;
    this.paramSpecs = adapterShapes(config, options.lora).map(([name, shape]) => ({ name, shape, weightDecay: true }));
    const longest = rows.reduce((m, r) => Math.max(m, r.length), 0);
    this.seqLen = options.seqLen ?? Math.min(Math.max(longest, 2), config.nPositions);
    if (!Number.isInteger(this.seqLen) || this.seqLen < 2 || this.seqLen > config.nPositions) throw new RangeError(`seqLen ${this.seqLen} must be in [2, ${config.nPositions}]`);
    const pad = options.padTokenId ?? 0;
    if (!(Number.isInteger(pad) && pad >= 0 && pad < config.vocabSize)) throw new RangeError(`padTokenId ${pad} is not a token id`);
    rows.forEach((row, i) => {
      for (let t = 0; t < row.length; t++) {
        const id = row[t];
        if (!(Number.isInteger(id) && id >= 0 && id < config.vocabSize)) throw new RangeError(`row ${i}, token ${t}: ${id} is not a token id below ${config.vocabSize}`);
      }
    });
  }

  async computeMicroBatch(params: readonly Float32Array[], rows: readonly number[], mode: ClippingMode, gradSum: readonly Float32Array[]): Promise<MicroBatchStats> {
    if (params.length !== this.paramSpecs.length || gradSum.length !== this.paramSpecs.length) {
      throw new RangeError(`expected ${this.paramSpecs.length} adapter and gradient tensors, got ${params.length} and ${gradSum.length}`);
    }
    for (const i of rows) if (this.options.rows[i] === undefined) throw new RangeError(`row index ${i} is outside the ${this.options.rows.length} rows`);
    // Private steps run every sampled slot at the full length (what a step costs must not depend on
    // which rows are usable); a row with fewer than 2 tokens has no target and a zero gradient.
    const isPrivate = mode !== 'nonprivate';
    const live = isPrivate ? [...rows] : rows.filter((i) => this.options.rows[i].length >= 2);
    if (live.length === 0) return { lossSum: 0, tokenCount: 0, exampleCount: rows.length };
    const session = await this.session(isPrivate ? 'clipped' : 'sum');
    const weights = new Map<string, ParamValue>(this.options.base);
    this.paramSpecs.forEach((s, k) => weights.set(s.name, { shape: s.shape, data: params[k] }));
    const result = await session.run(weights, padTokenRows(this.options.rows, live, this.seqLen, this.options.padTokenId), isPrivate ? mode.clipNorm : undefined);
    const { lossSum, tokenCount } = accumulateStep(this.paramSpecs, result, gradSum, this.options.exampleLoss);
    return { lossSum, tokenCount, exampleCount: rows.length };
  }

  async release(): Promise<void> {
    const sessions = [...this.sessions.values()];
    this.sessions.clear();
    for (const s of sessions) await (await s).release();
  }

  private session(mode: 'sum' | 'clipped'): Promise<TrainStepSession> {
    let s = this.sessions.get(mode);
    if (!s) {
      const o = this.options;
      s = TrainStepSession.create(o.config, { seqLen: this.seqLen, mode, exampleLoss: o.exampleLoss, ghost: o.ghost, lora: o.lora }, o.session);
      this.sessions.set(mode, s);
    }
    return s;
  }
}
