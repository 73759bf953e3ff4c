// SGD exactly as torch.optim.SGD: weight decay is L2 added to the gradient (d = g + λp),
// optional momentum b ← μb + (1 − dampening)d (b = d on the first step) and Nesterov
// d ← d + μb, then p ← p − lr·d. Arithmetic in float64, values stored in float32 (d and b
// rounded when momentum is on); the loop runs vectorised in WebAssembly (optimizer-kernels.wat).
import { OptimizerKernel } from './optimizer-kernel.ts';
import type { OptimizerMemory } from './optimizer-memory.ts';
import { checkSlots, forEachUpdate, type GradientTransform, type Optimizer, type OptimizerState, type SgdConfig } from './types.ts';

export class Sgd implements Optimizer {
  readonly kind = 'sgd';
  private readonly momentum: number;
  private readonly dampening: number;
  private readonly nesterov: boolean;
  private readonly weightDecay: number;
  private stepCount: number;
  private readonly momentumBuffers: Float32Array[];

  /** `resume` and `memory` as for AdamW. */
  constructor(
    sizes: readonly number[], config: SgdConfig, private readonly decayMask?: readonly boolean[], resume?: OptimizerState, private readonly memory?: OptimizerMemory,
  ) {
    this.momentum = config.momentum ?? 0;
    this.dampening = config.dampening ?? 0;
    this.nesterov = config.nesterov ?? false;
    this.weightDecay = config.weightDecay ?? 0;
    if (this.nesterov && (this.momentum <= 0 || this.dampening !== 0)) throw new RangeError('Sgd: Nesterov momentum requires a momentum and zero dampening');
    if (decayMask !== undefined && decayMask.length !== sizes.length) throw new RangeError('Sgd: decayMask length differs from the parameter count');
    const slots = this.momentum !== 0 ? ['momentum_buffer'] : [];
    if (resume) {
      if (resume.kind !== 'sgd') throw new RangeError(`Sgd: cannot resume from ${resume.kind} state`);
      checkSlots(resume, slots, sizes);
      this.stepCount = resume.stepCount;
      const saved = this.momentum !== 0 ? resume.slots.momentum_buffer : [];
      this.momentumBuffers = memory ? saved.map((b) => memory.copyIn(b)) : saved;
    } else {
      this.stepCount = 0;
      this.momentumBuffers = this.momentum !== 0 ? sizes.map((n) => memory?.allocate(n) ?? new Float32Array(n)) : [];
    }
  }

  async step(params: readonly Float32Array[], grads: readonly Float32Array[], lr: number, gradient?: GradientTransform): Promise<void> {
    if (grads.length !== params.length) throw new RangeError('Sgd.step: wrong number of tensors');
    grads.forEach((g, k) => {
      if (g.length !== params[k].length) throw new RangeError(`Sgd.step: grad ${k} has ${g.length} values, param has ${params[k].length}`);
    });
    const kernel = this.memory?.kernel ?? await OptimizerKernel.load();
    const firstStep = this.stepCount === 0;
    this.stepCount += 1;
    await forEachUpdate(params.map((p) => p.length), gradient, (k, start, end, piece) => {
      const weightDecay = this.decayMask === undefined || this.decayMask[k] ? this.weightDecay : 0;
      const part = (x: Float32Array) => x.subarray(start, end);
      kernel.sgd(part(params[k]), part(grads[k]), this.momentum !== 0 ? part(this.momentumBuffers[k]) : undefined, {
        lr, weightDecay, momentum: this.momentum, dampening: this.dampening, firstStep, nesterov: this.nesterov,
      }, piece);
    });
  }

  state(): OptimizerState {
    return { kind: 'sgd', stepCount: this.stepCount, slots: this.momentum !== 0 ? { momentum_buffer: this.momentumBuffers } : {} };
  }
}
