// SGD exactly as torch.optim.SGD: weight decay is L2 added to the gradient (d = g + λp),
// optional momentum b ← μb + (1 − dampening)d (b = d on the first step) and Nesterov
// d ← d + μb, then p ← p − lr·d.
import { checkSlots, type Optimizer, type OptimizerState, type SgdConfig } from './types.ts';

export class Sgd implements Optimizer {
  readonly kind = 'sgd';
  private readonly momentum: number;
  private readonly dampening: number;
  private readonly nesterov: boolean;
  private readonly weightDecay: number;
  private stepCount: number;
  private readonly momentumBuffers: Float32Array[];

  constructor(sizes: readonly number[], config: SgdConfig, private readonly decayMask?: readonly boolean[], resume?: OptimizerState) {
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
      this.momentumBuffers = this.momentum !== 0 ? resume.slots.momentum_buffer : [];
    } else {
      this.stepCount = 0;
      this.momentumBuffers = this.momentum !== 0 ? sizes.map((n) => new Float32Array(n)) : [];
    }
  }

  step(params: readonly Float32Array[], grads: readonly Float32Array[], lr: number): void {
    if (grads.length !== params.length) throw new RangeError('Sgd.step: wrong number of tensors');
    const mu = this.momentum;
    const firstStep = this.stepCount === 0;
    const keep = 1 - this.dampening;
    this.stepCount += 1;
    for (let k = 0; k < params.length; k++) {
      const p = params[k];
      const g = grads[k];
      if (g.length !== p.length) throw new RangeError(`Sgd.step: grad ${k} has ${g.length} values, param has ${p.length}`);
      const wd = this.decayMask === undefined || this.decayMask[k] ? this.weightDecay : 0;
      if (mu === 0) {
        for (let i = 0; i < p.length; i++) p[i] -= lr * (g[i] + wd * p[i]);
        continue;
      }
      const b = this.momentumBuffers[k];
      for (let i = 0; i < p.length; i++) {
        const d = Math.fround(g[i] + wd * p[i]);
        const bi = Math.fround(firstStep ? d : mu * b[i] + keep * d);
        b[i] = bi;
        p[i] -= lr * (this.nesterov ? d + mu * bi : bi);
      }
    }
  }

  state(): OptimizerState {
    return { kind: 'sgd', stepCount: this.stepCount, slots: this.momentum !== 0 ? { momentum_buffer: this.momentumBuffers } : {} };
  }
}
