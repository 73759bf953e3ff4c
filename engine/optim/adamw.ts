// AdamW as torch.optim.AdamW (amsgrad off, maximize off): decoupled weight decay
// p ← p·(1 − lr·λ), moments m ← β₁m + (1 − β₁)g, v ← β₂v + (1 − β₂)g², then
// p ← p − (lr / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε).
// Computed in float32 like torch's: the step's scalars (β₁, 1 − β₁, β₂, 1 − β₂, ε, 1 − lr·λ,
// lr / (1 − β₁ᵗ), √(1 − β₂ᵗ)) are computed in float64 and rounded to float32, and each
// operation of the update is rounded to float32, in the order written in optimizer-kernels.wat
// (no fused multiply-add). Four lanes of WebAssembly SIMD per instruction: float32 halves the
// work per value of the float64 form this replaced and runs at memory speed.
import { OptimizerKernel } from './optimizer-kernel.ts';
import type { OptimizerMemory } from './optimizer-memory.ts';
import { checkSlots, forEachUpdate, type AdamWConfig, type GradientTransform, type Optimizer, type OptimizerState } from './types.ts';

const SLOTS = ['exp_avg', 'exp_avg_sq'] as const;

export class AdamW implements Optimizer {
  readonly kind = 'adamw';
  private readonly beta1: number;
  private readonly beta2: number;
  private readonly eps: number;
  private readonly weightDecay: number;
  private stepCount: number;
  private readonly expAvg: Float32Array[];
  private readonly expAvgSq: Float32Array[];

  /**
   * @param sizes element count of each parameter tensor
   * @param decayMask per tensor, whether weight decay applies (GPT-2 convention: not to biases and LayerNorm); default all
   * @param resume state from a checkpoint; adopted, not copied (copied into `memory` when given)
   * @param memory where the moments live, updated in place there (see optimizer-memory.ts); default ordinary arrays
   */
  constructor(
    sizes: readonly number[], config: AdamWConfig, private readonly decayMask?: readonly boolean[], resume?: OptimizerState, private readonly memory?: OptimizerMemory,
  ) {
    [this.beta1, this.beta2] = config.betas ?? [0.9, 0.999];
    this.eps = config.eps ?? 1e-8;
    this.weightDecay = config.weightDecay ?? 0.01;
    if (decayMask !== undefined && decayMask.length !== sizes.length) throw new RangeError('AdamW: decayMask length differs from the parameter count');
    if (resume) {
      if (resume.kind !== 'adamw') throw new RangeError(`AdamW: cannot resume from ${resume.kind} state`);
      checkSlots(resume, SLOTS, sizes);
      this.stepCount = resume.stepCount;
      this.expAvg = memory ? resume.slots.exp_avg.map((m) => memory.copyIn(m)) : resume.slots.exp_avg;
      this.expAvgSq = memory ? resume.slots.exp_avg_sq.map((v) => memory.copyIn(v)) : resume.slots.exp_avg_sq;
    } else {
      this.stepCount = 0;
      const zeros = (n: number) => memory?.allocate(n) ?? new Float32Array(n);
      this.expAvg = sizes.map(zeros);
      this.expAvgSq = sizes.map(zeros);
    }
  }

  async step(params: readonly Float32Array[], grads: readonly Float32Array[], lr: number, gradient?: GradientTransform): Promise<void> {
    if (params.length !== this.expAvg.length || grads.length !== params.length) throw new RangeError('AdamW.step: wrong number of tensors');
    grads.forEach((g, k) => {
      if (g.length !== params[k].length) throw new RangeError(`AdamW.step: grad ${k} has ${g.length} values, param has ${params[k].length}`);
    });
    const kernel = this.memory?.kernel ?? await OptimizerKernel.load();
    this.stepCount += 1;
    const stepSize = lr / (1 - this.beta1 ** this.stepCount);
    const bias2Sqrt = Math.sqrt(1 - this.beta2 ** this.stepCount);
    await forEachUpdate(params.map((p) => p.length), gradient, (k, start, end, piece) => {
      const shrink = this.decayMask === undefined || this.decayMask[k] ? 1 - lr * this.weightDecay : 1;
      const part = (x: Float32Array) => x.subarray(start, end);
      kernel.adamw(part(params[k]), part(grads[k]), part(this.expAvg[k]), part(this.expAvgSq[k]), {
        beta1: this.beta1, beta2: this.beta2, eps: this.eps, shrink, stepSize, bias2Sqrt,
      }, piece);
    });
  }

  state(): OptimizerState {
    return { kind: 'adamw', stepCount: this.stepCount, slots: { exp_avg: this.expAvg, exp_avg_sq: this.expAvgSq } };
  }
}
