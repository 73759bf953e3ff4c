// The JS side of optimizer-kernels.wat. The kernels address every array in their memory: an
// array that lives there (the optimizer's state and the gradient sum, allocated from an
// OptimizerMemory) is read and updated in place; any other is copied into a scratch block of the
// memory and back, a block at a time. The block stays in cache, so main-memory traffic is the
// same either way, but each copy costs a pass of CPU time (bench/dp/noise-and-optimizers.ts
// prints AdamW both ways). A gradient read through a transform (DP noise, a batch mean) is copied
// and transformed in scratch all the same: reading it in place in the transform's pass, or
// transforming it within the update's, both measured slower than the copy.
import { WASM_PAGE_BYTES, createKernelMemory, instantiateWat, type KernelMemory } from '../random/wat.ts';
import type { GradientPiece } from './types.ts';

const BLOCK = 4096;
const BLOCK_BYTES = BLOCK * Float32Array.BYTES_PER_ELEMENT;
/** Scratch blocks, in order: parameters, gradient, first slot, second slot, DP noise. */
const SCRATCH_BLOCKS = 5;
const PARAM = 0;
const GRAD = 1;
const FIRST_SLOT = 2;
const SECOND_SLOT = 3;
const NOISE = 4;
/** Bytes of scratch a kernel needs at the start of its memory. */
export const OPTIMIZER_SCRATCH_BYTES = SCRATCH_BLOCKS * BLOCK_BYTES;

interface OptimizerExports {
  /** Every scalar is taken as a float32 (WebAssembly rounds f32 parameters to nearest); arrays are byte addresses. */
  adamwBlock(n: number, p: number, g: number, m: number, v: number, b1: number, c1: number, b2: number, c2: number, eps: number, shrink: number, stepSize: number, bias2Sqrt: number): void;
  sgdBlock(n: number, p: number, g: number, b: number, lr: number, wd: number, mu: number, keep: number, momentum: number, first: number, nesterov: number): void;
  noisyGradientBlock(n: number, scale: number, g: number, noise: number, out: number): void;
  scaledGradientBlock(n: number, scale: number, g: number, out: number): void;
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

/** The update of one block, given the byte address of each array (0 for an absent slot). */
type BlockUpdate = (n: number, param: number, grad: number, first: number, second: number) => void;

const KERNEL_URL = new URL('./optimizer-kernels.wat', import.meta.url);
let loaded: Promise<OptimizerKernel> | undefined;

export class OptimizerKernel {
  /** The kernel of this thread, on a memory of scratch only: every array is copied through it. */
  static load(): Promise<OptimizerKernel> {
    loaded ??= OptimizerKernel.on(createKernelMemory(Math.ceil(OPTIMIZER_SCRATCH_BYTES / WASM_PAGE_BYTES)));
    return loaded;
  }

  /** A kernel on `memory`, whose first OPTIMIZER_SCRATCH_BYTES bytes it uses as scratch; arrays elsewhere in it are updated in place. */
  static async on(memory: KernelMemory): Promise<OptimizerKernel> {
    return new OptimizerKernel(await instantiateWat<OptimizerExports>(KERNEL_URL, { kernel: { memory } }), memory);
  }

  private readonly values: Float32Array; // the memory never grows, so the view stays valid

  private constructor(private readonly kernel: OptimizerExports, private readonly memory: KernelMemory) {
    this.values = new Float32Array(memory.buffer);
  }

  /** Whether `array` lives in this kernel's memory (and so is updated in place). */
  holds(array: ArrayBufferView): boolean {
    return array.buffer === this.memory.buffer;
  }

  /**
   * One AdamW update of p with gradient g and moments m, v, all in place, in float32 (see
   * adamw.ts). With `piece`, the gradient is g scaled and noised as it says (g itself is only read).
   */
  adamw(p: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, c: AdamWCoefficients, piece?: GradientPiece): void {
    const c1 = 1 - c.beta1; // in float64, then rounded once to float32 like the other scalars
    const c2 = 1 - c.beta2;
    this.blocks([p, g, m, v], piece, (n, param, grad, first, second) => this.kernel.adamwBlock(
      n, param, grad, first, second, c.beta1, c1, c.beta2, c2, c.eps, c.shrink, c.stepSize, c.bias2Sqrt,
    ));
  }

  /** One SGD update of p with gradient g and, with momentum, its buffer b, in place; `piece` as for adamw. */
  sgd(p: Float32Array, g: Float32Array, b: Float32Array | undefined, c: SgdCoefficients, piece?: GradientPiece): void {
    const momentum = b !== undefined ? -1 : 0;
    this.blocks([p, g, b, undefined], piece, (n, param, grad, first) => this.kernel.sgdBlock(
      n, param, grad, first, c.lr, c.weightDecay, c.momentum, 1 - c.dampening, momentum, c.firstStep ? -1 : 0, c.nesterov ? -1 : 0,
    ));
  }

  /** `arrays`: parameters, gradient, first slot, second slot, each of the parameters' length or absent. */
  private blocks(arrays: readonly (Float32Array | undefined)[], piece: GradientPiece | undefined, update: BlockUpdate): void {
    const length = arrays[PARAM]!.length;
    const noise = piece?.noise;
    if (noise && noise.length !== length) throw new RangeError(`optimizer: ${noise.length} noise values for ${length} parameters`);
    const resident = arrays.map((a) => a !== undefined && this.holds(a));
    // A transformed gradient is transformed in scratch: over a copy, never the gradient itself.
    resident[GRAD] &&= piece === undefined;
    const copied = arrays.map(() => false);
    for (let start = 0; start < length; start += BLOCK) {
      const n = Math.min(BLOCK, length - start);
      // In place only on whole four-value lanes: the kernel writes every lane it computes, and
      // past a piece's end lie values the next piece has yet to update. A tail of 1–3 values
      // goes through scratch.
      const whole = n & ~3;
      if (whole > 0) this.block(arrays, resident, start, whole, piece, update);
      if (whole < n) this.block(arrays, copied, start + whole, n - whole, piece, update);
    }
  }

  private block(arrays: readonly (Float32Array | undefined)[], inPlace: readonly boolean[], start: number, n: number, piece: GradientPiece | undefined, update: BlockUpdate): void {
    const padded = (n + 3) & ~3; // padded scratch lanes compute on stale values and are not read back
    const address = arrays.map((a, slot) => {
      if (a === undefined) return 0;
      if (inPlace[slot]) return a.byteOffset + start * Float32Array.BYTES_PER_ELEMENT;
      this.values.set(a.subarray(start, start + n), slot * BLOCK);
      return slot * BLOCK_BYTES;
    });
    if (piece?.noise) {
      this.values.set(piece.noise.subarray(start, start + n), NOISE * BLOCK);
      this.kernel.noisyGradientBlock(padded, piece.scale, address[GRAD], NOISE * BLOCK_BYTES, address[GRAD]);
    } else if (piece) this.kernel.scaledGradientBlock(padded, piece.scale, address[GRAD], address[GRAD]);
    update(padded, address[PARAM], address[GRAD], address[FIRST_SLOT], address[SECOND_SLOT]);
    for (const slot of [PARAM, FIRST_SLOT, SECOND_SLOT]) {
      const a = arrays[slot];
      if (a !== undefined && !inPlace[slot]) a.set(this.values.subarray(slot * BLOCK, slot * BLOCK + n), start);
    }
  }
}
