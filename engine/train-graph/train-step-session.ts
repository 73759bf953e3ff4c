// Runs the training-step graph: weights and a token batch in, gradient sums and per-example
// statistics out, in one session.run. Weights are fed as zero-copy input tensors, so the same
// session follows the optimizer's in-place updates. With `lora`, the inputs are the frozen base
// weights and the adapters, and only the adapters' gradients come back. The gradients can be
// written by onnxruntime straight into the caller's buffers (preallocated outputs): returned, they
// are a weight-sized copy that onnxruntime-node makes from its own output buffers.
import ort from 'onnxruntime-node';
import type { Gpt2Config } from '../gpt2/config.ts';
import { EngineSession, serializeGraph, type SessionConfig } from '../onnx/index.ts';
import { buildTrainStepGraph, trainGraphNames, trainStepParameters, type TrainStepGraphOptions } from './train-step-graph.ts';

type FloatArray = Float32Array | Float64Array;

export interface ParamValue {
  shape: readonly number[];
  data: FloatArray;
}

/** Right-padded token rows: [batchSize × seqLen] ids and mask (1 = token, 0 = padding). */
export interface TokenBatch {
  batchSize: number;
  inputIds: BigInt64Array;
  attentionMask: BigInt64Array;
}

export interface TrainStepResult {
  /** Σ over the micro-batch (clipped per example in 'clipped' mode), by parameter name. */
  grads: Map<string, FloatArray>;
  /** Each example's loss (mean over its target tokens). */
  exampleLoss: FloatArray;
  /** Each example's number of target tokens. */
  exampleTargets: FloatArray;
  /** Each example's gradient norm before clipping ('clipped' mode only). */
  exampleGradNorm?: FloatArray;
}

export class TrainStepSession {
  private constructor(
    readonly config: Gpt2Config,
    readonly options: TrainStepGraphOptions,
    private readonly session: EngineSession,
    /** Every weight fed in: the model's parameters (and, with LoRA, the adapters after them). */
    private readonly inputNames: string[],
    /** The weights whose gradients come back: all of them, or the adapters alone. */
    readonly trainable: string[],
  ) {}

  static async create(config: Gpt2Config, options: TrainStepGraphOptions, session: SessionConfig = {}): Promise<TrainStepSession> {
    const model = serializeGraph(buildTrainStepGraph(config, options));
    // No memory pattern: onnxruntime's planned block for this graph held 1.5 GB more than the
    // tensors alive at once (GPT-2-small, 8 × 128 tokens: peak RSS 4.8 → 3.3 GB), at the same speed.
    const engine = await EngineSession.create(model, { memoryPattern: false, ...session });
    const { inputs, trainable } = trainStepParameters(config, options.lora);
    return new TrainStepSession(config, options, engine, inputs.map(([name]) => name), trainable);
  }

  get seqLen(): number {
    return this.options.seqLen;
  }

  /**
   * One forward and backward pass. `gradInto`: buffers, by trainable name, that onnxruntime writes
   * the gradient sums into (each the parameter's size); they are then the result's grads.
   */
  async run(weights: ReadonlyMap<string, ParamValue>, batch: TokenBatch, clipNorm?: number, gradInto?: ReadonlyMap<string, FloatArray>): Promise<TrainStepResult> {
    const T = this.options.seqLen;
    const B = batch.batchSize;
    if (batch.inputIds.length !== B * T || batch.attentionMask.length !== B * T) {
      throw new Error(`token batch: expected ${B}×${T} ids and mask, got ${batch.inputIds.length} and ${batch.attentionMask.length}`);
    }
    const dtype = this.options.dtype ?? 'float32';
    const feeds: Record<string, ort.Tensor> = {};
    for (const name of this.inputNames) {
      const w = weights.get(name);
      if (!w) throw new Error(`weights lack ${name}`);
      if ((dtype === 'float32') !== w.data instanceof Float32Array) throw new Error(`${name}: expected ${dtype} data`);
      feeds[name] = new ort.Tensor(dtype, w.data, w.shape);
    }
    feeds[trainGraphNames.inputIds] = new ort.Tensor('int64', batch.inputIds, [B, T]);
    feeds[trainGraphNames.attentionMask] = new ort.Tensor('int64', batch.attentionMask, [B, T]);
    if (this.options.mode === 'clipped') {
      if (clipNorm === undefined || !(clipNorm > 0)) throw new Error(`clipped gradients need a positive clip norm, got ${clipNorm}`);
      const c = dtype === 'float32' ? Float32Array.of(clipNorm) : Float64Array.of(clipNorm);
      feeds[trainGraphNames.clipNorm] = new ort.Tensor(dtype, c, []);
    }
    const out = gradInto ? await this.runInto(feeds, gradInto) : await this.session.run(feeds);
    const data = (name: string): FloatArray => out[name].data as FloatArray;
    const grads = new Map<string, FloatArray>();
    for (const name of this.trainable) grads.set(name, gradInto?.get(name) ?? data(trainGraphNames.grad(name)));
    return {
      grads,
      exampleLoss: data(trainGraphNames.exampleLoss),
      exampleTargets: data(trainGraphNames.exampleTargets),
      exampleGradNorm: this.options.mode === 'clipped' ? data(trainGraphNames.exampleGradNorm) : undefined,
    };
  }

  private async runInto(feeds: Record<string, ort.Tensor>, gradInto: ReadonlyMap<string, FloatArray>): Promise<Record<string, ort.Tensor>> {
    const dtype = this.options.dtype ?? 'float32';
    const shapes = new Map(trainStepParameters(this.config, this.options.lora).inputs);
    // onnxruntime's fetches: a tensor is a preallocated output written in place, null one it allocates.
    const fetches: Record<string, ort.Tensor | null> = {};
    for (const output of [trainGraphNames.exampleLoss, trainGraphNames.exampleTargets]) fetches[output] = null;
    if (this.options.mode === 'clipped') fetches[trainGraphNames.exampleGradNorm] = null;
    for (const name of this.trainable) {
      const into = gradInto.get(name);
      if (!into) throw new Error(`gradInto lacks ${name}`);
      if ((dtype === 'float32') !== into instanceof Float32Array) throw new Error(`${name}: expected a ${dtype} gradient buffer`);
      fetches[trainGraphNames.grad(name)] = new ort.Tensor(dtype, into, shapes.get(name));
    }
    return this.session.run(feeds, fetches);
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
