// A real (small) model for the trainer's tests: multinomial logistic regression on synthetic
// rows, with exact per-example gradients in JS. Its per-example gradient is d ⊗ [x, 1] with
// d = softmax(Wx + b) − onehot(y), so ‖g‖² = ‖d‖²(‖x‖² + 1): clipping needs no second pass.
// Also the module a worker thread loads in the worker tests (createGradientComputer).
import { clipFactor } from '../../engine/dp/index.ts';
import type { ClippingMode, GradientComputer, MicroBatchStats, ParamSpec } from '../../engine/train/types.ts';
import type { ModelFactoryResult } from '../../engine/train/worker-protocol.ts';

export interface SoftmaxRegressionOptions {
  rowCount: number;
  features: number;
  classes: number;
  /** Seeds the synthetic data (a deterministic hash, not a CSPRNG: this is test data). */
  dataSeed?: number;
  /** Spin the CPU this long per micro-batch, standing in for a blocking ORT session.run. */
  busyMsPerMicroBatch?: number;
  /** Scale of the features: large values make most per-example gradients exceed the clip norm. */
  featureScale?: number;
}

// A small integer hash to uniform [0, 1) (splitmix-like), for reproducible synthetic data.
function hashUniform(a: number, b: number, c: number): number {
  let h = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(b + 0x7f4a7c15, 0xc2b2ae35) ^ Math.imul(c + 0x165667b1, 0x27d4eb2f);
  h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d);
  h = Math.imul(h ^ (h >>> 12), 0x297a2d39);
  return ((h ^ (h >>> 15)) >>> 0) / 4294967296;
}

export class SoftmaxRegression implements GradientComputer {
  readonly paramSpecs: readonly ParamSpec[];
  readonly features: number;
  readonly classes: number;
  readonly x: Float64Array;
  readonly y: Int32Array;
  /** Every call, for tests that check how the trainer drives the model. */
  readonly calls: { rows: number[]; mode: ClippingMode }[] = [];
  private readonly busyMs: number;

  constructor(options: SoftmaxRegressionOptions) {
    const { rowCount, features, classes } = options;
    const seed = options.dataSeed ?? 1;
    const scale = options.featureScale ?? 1;
    this.features = features;
    this.classes = classes;
    this.busyMs = options.busyMsPerMicroBatch ?? 0;
    this.paramSpecs = [
      { name: 'linear.weight', shape: [classes, features] },
      { name: 'linear.bias', shape: [classes], weightDecay: false },
    ];
    this.x = new Float64Array(rowCount * features);
    this.y = new Int32Array(rowCount);
    const scores = new Float64Array(classes);
    for (let r = 0; r < rowCount; r++) {
      for (let f = 0; f < features; f++) this.x[r * features + f] = (hashUniform(seed, r, f) * 2 - 1) * scale;
      // Labels from a fixed "true" linear model plus noise, so the loss can go down.
      for (let c = 0; c < classes; c++) {
        let s = hashUniform(seed + 1, r, 100_000 + c);
        for (let f = 0; f < features; f++) s += this.x[r * features + f] * (hashUniform(seed + 2, c, f) * 2 - 1);
        scores[c] = s;
      }
      this.y[r] = scores.indexOf(Math.max(...scores));
    }
  }

  initialParams(): Float32Array[] {
    return [new Float32Array(this.classes * this.features), new Float32Array(this.classes)];
  }

  /** Example `row`'s gradient [dW, db] and its loss, in float64. */
  exampleGradient(params: readonly Float32Array[], row: number): { grad: [Float64Array, Float64Array]; loss: number } {
    const { features, classes } = this;
    const [weight, bias] = params;
    const logits = new Float64Array(classes);
    let max = -Infinity;
    for (let c = 0; c < classes; c++) {
      let s = bias[c];
      for (let f = 0; f < features; f++) s += weight[c * features + f] * this.x[row * features + f];
      logits[c] = s;
      max = Math.max(max, s);
    }
    let total = 0;
    for (let c = 0; c < classes; c++) total += Math.exp(logits[c] - max);
    const d = new Float64Array(classes);
    for (let c = 0; c < classes; c++) d[c] = Math.exp(logits[c] - max) / total;
    const loss = -(logits[this.y[row]] - max - Math.log(total));
    d[this.y[row]] -= 1;
    const dW = new Float64Array(classes * features);
    for (let c = 0; c < classes; c++) for (let f = 0; f < features; f++) dW[c * features + f] = d[c] * this.x[row * features + f];
    return { grad: [dW, d], loss };
  }

  async computeMicroBatch(params: readonly Float32Array[], rows: readonly number[], mode: ClippingMode, gradSum: readonly Float32Array[]): Promise<MicroBatchStats> {
    this.calls.push({ rows: [...rows], mode });
    if (this.busyMs > 0) {
      const until = performance.now() + this.busyMs;
      while (performance.now() < until) {
        // Blocking on purpose: this is what a synchronous native session.run does to its thread.
      }
    }
    let lossSum = 0;
    for (const row of rows) {
      const { grad, loss } = this.exampleGradient(params, row);
      lossSum += loss;
      let squares = 0;
      for (const g of grad) for (let i = 0; i < g.length; i++) squares += g[i] * g[i];
      const factor = mode === 'nonprivate' ? 1 : clipFactor(Math.sqrt(squares), mode.clipNorm);
      grad.forEach((g, k) => {
        const target = gradSum[k];
        for (let i = 0; i < g.length; i++) target[i] += factor * g[i];
      });
    }
    return { lossSum, tokenCount: rows.length, exampleCount: rows.length };
  }
}

/** The worker-thread factory (see engine/train/worker-protocol.ts). */
export function createGradientComputer(options: unknown): ModelFactoryResult {
  const model = new SoftmaxRegression(options as SoftmaxRegressionOptions);
  return { model, initialParams: model.initialParams() };
}
