// The JS side of optimizer-kernels.wat: streams each tensor through WebAssembly memory a block at
// a time (the blocks stay in cache, so main-memory traffic is the same as an in-place loop), and
// runs the vectorised update on each block.
import { instantiateWat, type KernelMemory } from '../random/wat.ts';
import type { GradientPiece } from './types.ts';

const BLOCK = 4096;
const PARAMS = 0;
const GRADS = BLOCK;
const FIRST_SLOT = 2 * BLOCK;
const SECOND_SLOT = 3 * BLOCK;
const NOISE = 4 * BLOCK;

interface OptimizerExports {
  memory: KernelMemory;
  /** Every scalar is taken as a float32 (WebAssembly rounds f32 parameters to nearest). */
  adamwBlock(n: number, b1: number, c1: number, b2: number, c2: number, eps: number, shrink: number, stepSize: number, bias2Sqrt: number): void;
  sgdBlock(n: number, lr: number, wd: number, mu: number, keep: number, momentum: number, first: number, nesterov: number): void;
  noisyGradientBlock(n: number, scale: number): void;
  scaledGradientBlock(n: number, scale: number): void;
}


/** The scalars of one AdamW update (see adamw.ts). */
export interface AdamWCoefficients {
  beta1: number;
  beta2: number;
  eps: number;
  shrink: number;
  stepSize: number;
  bias2Sqrt: number;
}

/** The scalars of one SGD update (see sgd.ts). */
export interface SgdCoefficients {
  lr: number;
  weightDecay: number;
  momentum: number;
  dampening: number;
  firstStep: boolean;
  nesterov: boolean;
}

let loaded: Promise<OptimizerKernel> | undefined;

export class OptimizerKernel {
  /** The kernel of this thread (compiled and instantiated once). */
  static load(): Promise<OptimizerKernel> {
    loaded ??= instantiateWat<OptimizerExports>(new URL('./optimizer-kernels.wat', import.meta.url)).then((kernel) => new OptimizerKernel(kernel));
    return loaded;
  }

  private readonly region: Float32Array; // the memory never grows, so the view stays valid

  private constructor(private readonly kernel: OptimizerExports) {
    this.region = new Float32Array(kernel.memory.buffer, 0, 5 * BLOCK);
  }

  /**
   * One AdamW update of p with gradient g and moments m, v, all in place, in float32 (see
   * adamw.ts). With `piece`, the gradient is g scaled and noised as it says (g itself is only read).
   */
  adamw(p: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, c: AdamWCoefficients, piece?: GradientPiece): void {
    const c1 = 1 - c.beta1; // in float64, then rounded once to float32 like the other scalars
    const c2 = 1 - c.beta2;
    this.blocks(p, g, m, v, piece, (n) => this.kernel.adamwBlock(n, c.beta1, c1, c.beta2, c2, c.eps, c.shrink, c.stepSize, c.bias2Sqrt));
  }

  /** One SGD update of p with gradient g and, with momentum, its buffer b, in place; `piece` as for adamw. */
  sgd(p: Float32Array, g: Float32Array, b: Float32Array | undefined, c: SgdCoefficients, piece?: GradientPiece): void {
    const momentum = b !== undefined ? -1 : 0;
    this.blocks(p, g, b, undefined, piece, (n) => this.kernel.sgdBlock(
      n, c.lr, c.weightDecay, c.momentum, 1 - c.dampening, momentum, c.firstStep ? -1 : 0, c.nesterov ? -1 : 0,
    ));
  }

  private blocks(
    p: Float32Array, g: Float32Array, first: Float32Array | undefined, second: Float32Array | undefined, piece: GradientPiece | undefined, update: (n: number) => void,
  ): void {
    const noise = piece?.noise;
    if (noise && noise.length !== p.length) throw new RangeError(`optimizer: ${noise.length} noise values for ${p.length} parameters`);
    const r = this.region;
    for (let start = 0; start < p.length; start += BLOCK) {
      const end = Math.min(p.length, start + BLOCK);
      const n = end - start;
      const padded = (n + 3) & ~3; // padded last lanes compute on stale values and are not read back
      r.set(p.subarray(start, end), PARAMS);
      r.set(g.subarray(start, end), GRADS);
      if (first) r.set(first.subarray(start, end), FIRST_SLOT);
      if (second) r.set(second.subarray(start, end), SECOND_SLOT);
      if (noise) {
        r.set(noise.subarray(start, end), NOISE);
        this.kernel.noisyGradientBlock(padded, piece!.scale);
      } else if (piece) this.kernel.scaledGradientBlock(padded, piece.scale);
      update(padded);
      p.set(r.subarray(PARAMS, PARAMS + n), start);
      if (first) first.set(r.subarray(FIRST_SLOT, FIRST_SLOT + n), start);
      if (second) second.set(r.subarray(SECOND_SLOT, SECOND_SLOT + n), start);
    }
  }
}
