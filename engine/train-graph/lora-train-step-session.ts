// Runs a DP-LoRA training-step graph (train-step-graph.ts with `lora`): the frozen base weights and
// the adapters in, the adapters' gradient sums and per-example statistics out, in one session.run.
// All weights are zero-copy inputs, so one session follows the optimizer's in-place updates.
import ort from 'onnxruntime-node';
import type { Gpt2Config } from '../gpt2/config.ts';
import type { LoraSpec } from '../lora/adapters.ts';
import { EngineSession, serializeGraph, type SessionConfig } from '../onnx/index.ts';
import { buildTrainStepGraph, trainGraphNames, trainStepParameters, type TrainStepGraphOptions } from './train-step-graph.ts';
import type { ParamValue, TokenBatch, TrainStepResult } from './train-step-session.ts';

type FloatArray = Float32Array | Float64Array;

export interface LoraTrainStepOptions extends Omit<TrainStepGraphOptions, 'lora'> {
  lora: LoraSpec;
}

export class LoraTrainStepSession {
  private constructor(
    readonly options: LoraTrainStepOptions,
    private readonly session: EngineSession,
    /** Every input weight: the base model's, then the adapters. */
    private readonly inputNames: string[],
    /** The adapters, whose gradients come back. */
    readonly trainable: string[],
  ) {}

  static async create(config: Gpt2Config, options: LoraTrainStepOptions, session: SessionConfig = {}): Promise<LoraTrainStepSession> {
    const model = serializeGraph(buildTrainStepGraph(config, options));
    const engine = await EngineSession.create(model, session);
    const { inputs, trainable } = trainStepParameters(config, options.lora);
    return new LoraTrainStepSession(options, engine, inputs.map(([name]) => name), trainable);
  }

  /** `weights` holds the base parameters and the adapters by name; the result's grads are the adapters'. */
  async run(weights: ReadonlyMap<string, ParamValue>, batch: TokenBatch, clipNorm?: number): Promise<TrainStepResult> {
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
      feeds[trainGraphNames.clipNorm] = new ort.Tensor(dtype, dtype === 'float32' ? Float32Array.of(clipNorm) : Float64Array.of(clipNorm), []);
    }
    const out = await this.session.run(feeds);
    const data = (name: string): FloatArray => out[name].data as FloatArray;
    const grads = new Map<string, FloatArray>();
    for (const name of this.trainable) grads.set(name, data(trainGraphNames.grad(name)));
    return {
      grads,
      exampleLoss: data(trainGraphNames.exampleLoss),
      exampleTargets: data(trainGraphNames.exampleTargets),
      exampleGradNorm: this.options.mode === 'clipped' ? data(trainGraphNames.exampleGradNorm) : undefined,
    };
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
