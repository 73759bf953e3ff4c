// One arm of the utility bench: a fine-tune of a base on the private rows (the full model with or
// without DP, or DP-LoRA adapters on the frozen base) through engine/train's train(), the trainer
// the fine-tune activity runs (Poisson sampling, per-example clipping, σ calibrated for the run's
// sampling rate and steps, the keyed noise stream, AdamW with linear decay), then the exact
// held-out loss of the trained model on the validation and test rows.
import { createHash } from 'node:crypto';
import { rowLosses, SequenceScorer } from '../../engine/audit/index.ts';
import { RunKey } from '../../engine/dp/index.ts';
import type { Gpt2Checkpoint, Gpt2Config, Gpt2Weights } from '../../engine/gpt2/index.ts';
import { initAdapters, type AdapterWeights, type LoraSpec } from '../../engine/lora/adapters.ts';
import { mergeLora } from '../../engine/lora/merge.ts';
import { sessionConfigFromEnv } from '../../engine/onnx/index.ts';
import { Gpt2GradientComputer } from '../../engine/train-graph/index.ts';
import { LoraGradientComputer } from '../../engine/train-graph/lora-gradient-computer.ts';
import { train, type GradientComputer, type TrainConfig } from '../../engine/train/index.ts';
import type { PrivateRows } from './data.ts';

/** What every arm shares: the demo's DP settings unless the command line changes them. */
export interface Schedule {
  batchSize: number;
  epochs: number;
  targetEpsilon: number;
  delta: number;
  maxGradNorm: number;
  physicalBatchSize: number;
  seqLen: number;
}

export type ArmKind = { kind: 'full'; private: boolean } | { kind: 'lora'; lora: LoraSpec };

export interface ArmRun {
  arm: ArmKind;
  lr: number;
  seed: number;
}

export interface ArmResult extends ArmRun {
  validationLoss: number;
  testLoss: number;
  epsilon: number;
  noiseMultiplier: number;
  steps: number;
  trainableParams: number;
  seconds: number;
}

export const armName = (arm: ArmKind): string => (arm.kind === 'lora' ? `DP-LoRA r${arm.lora.rank}` : arm.private ? 'full DP' : 'full, no DP');

/**
 * The run key of a seed. Derived from a public string so that a rerun draws the same samples and
 * noise (a bench on fictitious rows; a real run's key comes from RunKey.generate()). Every arm of
 * one seed shares it: the same Poisson batches, so arms differ by what they train, not by luck.
 */
function benchRunKey(seed: number): RunKey {
  return RunKey.from(createHash('sha256').update(`veil-bench-lora-utility/run-key/${seed}`).digest());
}

/** Mean over rows of each row's mean token loss: the demo's held-out loss (activities/training/evaluate.ts), exact. */
export async function heldOutLoss(checkpoint: Gpt2Checkpoint, rows: readonly number[][]): Promise<number> {
  const scorer = await SequenceScorer.create(checkpoint, { session: sessionConfigFromEnv() });
  try {
    const losses = await rowLosses(scorer, rows);
    return losses.reduce((a, b) => a + b, 0) / losses.length;
  } finally {
    await scorer.release();
  }
}

interface Prepared {
  model: GradientComputer;
  initialParams: Float32Array[];
  /** The trained parameters as a full model. */
  weightsOf: (params: Float32Array[]) => Gpt2Weights;
}

function prepare(base: Gpt2Checkpoint, rows: readonly number[][], run: ArmRun, seqLen: number): Prepared {
  const { config } = base;
  const session = sessionConfigFromEnv();
  if (run.arm.kind === 'full') {
    const model = new Gpt2GradientComputer({ config, rows, seqLen, session });
    // train() updates its parameters in place: every arm starts from its own copy of the base.
    const initialParams = model.paramSpecs.map((s) => Float32Array.from(base.weights.get(s.name)!.data));
    const weightsOf = (params: Float32Array[]): Gpt2Weights => new Map(model.paramSpecs.map((s, k) => [s.name, { shape: [...s.shape], data: params[k] }]));
    return { model, initialParams, weightsOf };
  }
  const lora = run.arm.lora;
  const model = new LoraGradientComputer({ config, base: base.weights, lora, rows, seqLen, session });
  const adapters = initAdapters(config, lora, `veil-bench-lora-utility/adapters/${run.seed}`);
  const initialParams = model.paramSpecs.map((s) => adapters.get(s.name)!.data);
  const weightsOf = (params: Float32Array[]): Gpt2Weights => {
    const trained: AdapterWeights = new Map(model.paramSpecs.map((s, k) => [s.name, { shape: [...s.shape], data: params[k] }]));
    return mergeLora(config, base.weights, lora, trained);
  };
  return { model, initialParams, weightsOf };
}

export async function runArm(base: Gpt2Checkpoint, rows: PrivateRows, schedule: Schedule, run: ArmRun): Promise<ArmResult> {
  const started = performance.now();
  const isPrivate = run.arm.kind === 'lora' || run.arm.private;
  const config: TrainConfig = {
    rowCount: rows.train.length,
    targetEpsilon: isPrivate ? schedule.targetEpsilon : 'unlimited',
    delta: schedule.delta,
    batchSize: schedule.batchSize,
    epochs: schedule.epochs,
    maxGradNorm: schedule.maxGradNorm,
    lr: run.lr,
    physicalBatchSize: schedule.physicalBatchSize,
    accountant: 'prv',
  };
  const { model, initialParams, weightsOf } = prepare(base, rows.train, run, schedule.seqLen);
  const trainableParams = initialParams.reduce((n, p) => n + p.length, 0);
  let result;
  try {
    result = await train({ config, model, initialParams, runKey: benchRunKey(run.seed) });
  } finally {
    await model.release?.();
  }
  const trained: Gpt2Checkpoint = { config: base.config as Gpt2Config, weights: weightsOf(result.params) };
  return {
    ...run,
    validationLoss: await heldOutLoss(trained, rows.validation),
    testLoss: await heldOutLoss(trained, rows.test),
    epsilon: result.epsilon,
    noiseMultiplier: result.noiseMultiplier,
    steps: result.step,
    trainableParams,
    seconds: (performance.now() - started) / 1000,
  };
}
