// The JS side of optimizer-kernels.wat: streams each tensor through WebAssembly memory a block at
// a time (the blocks stay in cache, so main-memory traffic is the same as an in-place loop), and
// runs the vectorised update on each block. Those copies, not the arithmetic, are most of the
// update's time, so AdamW's moments may live in a kernel's own memory (moment-memory.ts), where
// the update reads and writes them in place.
import { createKernelMemory, instantiateWat, type KernelMemory } from '../random/wat.ts';
import type { GradientPiece } from './types.ts';

// Values per block: the blocks stay in L2, and fewer calls per tensor (AdamW with noise over 124 M
// values: 0.42 s at 8192 against 0.44 s at 4096 and 16384).
const BLOCK = 8192;
const PARAMS = 0;
const GRADS = BLOCK;
const FIRST_SLOT = 2 * BLOCK;
const SECOND_SLOT = 3 * BLOCK;
const NOISE = 4 * BLOCK;
/** Bytes at the start of a kernel's memory that hold its blocks (the layout in the .wat). */
export const OPTIMIZER_SCRATCH_BYTES = 5 * BLOCK * Float32Array.BYTES_PER_ELEMENT;
/** Pages of the memory the .wat declares as its minimum (the blocks, rounded up). */
const SCRATCH_PAGES = 3;

interface OptimizerExports {
  /** Every scalar is taken as a float32 (WebAssembly rounds f32 parameters to nearest). */
  adamwBlock(n: number, mAt: number, vAt: number, b1: number, c1: number, b2: number, c2: number, eps: number, shrink: number, stepSize: number, bias2Sqrt: number): void;
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

const KERNEL_SOURCE = new URL('./optimizer-kernels.wat', import.meta.url);
let loaded: Promise<OptimizerKernel> | undefined;
const onMemory = new WeakMap<KernelMemory, Promise<OptimizerKernel>>();

export class OptimizerKernel {
  /** The kernel of this thread on a memory of its own (compiled and instantiated once). */
  static load(): Promise<OptimizerKernel> {
    loaded ??= OptimizerKernel.instantiate(createKernelMemory(SCRATCH_PAGES));
    return loaded;
  }

  /** The kernel of this thread on `memory`, whose first OPTIMIZER_SCRATCH_BYTES it uses for its blocks. */
  static forMemory(memory: KernelMemory): Promise<OptimizerKernel> {
    let kernel = onMemory.get(memory);
    if (kernel === undefined) {
      kernel = OptimizerKernel.instantiate(memory);
      onMemory.set(memory, kernel);
    }
    return kernel;
  }

  private static async instantiate(memory: KernelMemory): Promise<OptimizerKernel> {
    return new OptimizerKernel(await instantiateWat<OptimizerExports>(KERNEL_SOURCE, memory), memory);
  }

  private readonly region: Float32Array; // the memory never grows, so the view stays valid

  private constructor(private readonly kernel: OptimizerExports, private readonly memory: KernelMemory) {
    this.region = new Float32Array(memory.buffer, 0, 5 * BLOCK);
  }

  /**
   * One AdamW update of p with gradient g and moments m, v, all in place, in float32 (see
   * adamw.ts). With `piece`, the gradient is g scaled and noised as it says (g itself is only read).
   * Moments in this kernel's memory are updated where they are.
   */
  adamw(p: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, c: AdamWCoefficients, piece?: GradientPiece): void {
    const c1 = 1 - c.beta1; // in float64, then rounded once to float32 like the other scalars
    const c2 = 1 - c.beta2;
    const { beta1, beta2, eps, shrink, stepSize, bias2Sqrt } = c;
    if (piece?.noise && piece.noise.length !== p.length) throw new RangeError(`optimizer: ${piece.noise.length} noise values for ${p.length} parameters`);
    const inPlace = m.buffer === this.memory.buffer && v.buffer === this.memory.buffer;
    // In place, a block's padded lanes would write the moments of the values after this piece, so
    // the update in place stops at whole lanes and the last few values take the copying one.
    const whole = inPlace ? p.length & ~3 : 0;
    if (whole > 0) {
      const head = (x: Float32Array): Float32Array => x.subarray(0, whole);
      const headPiece = piece && { scale: piece.scale, noise: piece.noise && head(piece.noise) };
      this.blocks(head(p), head(g), undefined, undefined, headPiece, (n, start) => this.kernel.adamwBlock(
        n, m.byteOffset + 4 * start, v.byteOffset + 4 * start, beta1, c1, beta2, c2, eps, shrink, stepSize, bias2Sqrt,
      ));
    }
    if (whole === p.length) return;
    const tail = (x: Float32Array): Float32Array => x.subarray(whole);
    const tailPiece = piece && { scale: piece.scale, noise: piece.noise && tail(piece.noise) };
    this.blocks(tail(p), tail(g), tail(m), tail(v), tailPiece, (n) => this.kernel.adamwBlock(
      n, 4 * FIRST_SLOT, 4 * SECOND_SLOT, beta1, c1, beta2, c2, eps, shrink, stepSize, bias2Sqrt,
    ));
  }

  /** One SGD update of p with gradient g and, with momentum, its buffer b, in place; `piece` as for adamw. */
  sgd(p: Float32Array, g: Float32Array, b: Float32Array | undefined, c: SgdCoefficients, piece?: GradientPiece): void {
    const momentum = b !== undefined ? -1 : 0;
    this.blocks(p, g, b, undefined, piece, (n) => this.kernel.sgdBlock(
      n, c.lr, c.weightDecay, c.momentum, 1 - c.dampening, momentum, c.firstStep ? -1 : 0, c.nesterov ? -1 : 0,
    ));
  }

  private blocks(
    p: Float32Array, g: Float32Array, first: Float32Array | undefined, second: Float32Array | undefined, piece: GradientPiece | undefined,
    update: (n: number, start: number) => void,
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
      update(padded, start);
      p.set(r.subarray(PARAMS, PARAMS + n), start);
      if (first) first.set(r.subarray(FIRST_SLOT, FIRST_SLOT + n), start);
      if (second) second.set(r.subarray(SECOND_SLOT, SECOND_SLOT + n), start);
    }
  }
}
