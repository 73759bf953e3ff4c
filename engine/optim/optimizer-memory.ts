// One WebAssembly memory for a run's gradient sum and optimizer state, with the optimizer kernel
// instantiated on it, so that the update reads the gradient and reads and writes the moments
// where they are instead of copying every block in and out of the kernel (optimizer-kernel.ts).
// The gradient graph writes its gradients straight into the memory as well: onnxruntime takes
// tensors over it like over any ArrayBuffer. A 32-bit memory holds at most 4 GiB: AdamW's state
// and gradient for GPT-2 medium (4.26 GB) just fit, GPT-2 large's (9.3 GB) keep ordinary arrays.
import { WASM_MAX_PAGES, WASM_PAGE_BYTES, createKernelMemory } from '../random/wat.ts';
import { OPTIMIZER_SCRATCH_BYTES, OptimizerKernel } from './optimizer-kernel.ts';

/** Allocations start on a cache line and take whole four-value lanes. */
const ALIGN_BYTES = 64;

function alignedBytes(values: number): number {
  return Math.ceil((values * Float32Array.BYTES_PER_ELEMENT) / ALIGN_BYTES) * ALIGN_BYTES;
}

/** The buffers of every OptimizerMemory: they cannot be moved to another thread. */
const memoryBuffers = new WeakSet<ArrayBufferLike>();

export class OptimizerMemory {
  /**
   * Whether `array` lives in some OptimizerMemory. Such an array cannot be moved to another thread
   * (a WebAssembly memory's buffer is not transferable): a copy of it can.
   */
  static holds(array: ArrayBufferView): boolean {
    return memoryBuffers.has(array.buffer);
  }

  /**
   * A memory for the given tensors (each allocated once), or undefined when they do not fit in
   * one. Its pages are mapped as they are first written, so it costs what is used.
   */
  static async reserve(tensorSizes: readonly number[]): Promise<OptimizerMemory | undefined> {
    const bytes = tensorSizes.reduce((sum, n) => sum + alignedBytes(n), OPTIMIZER_SCRATCH_BYTES);
    const pages = Math.ceil(bytes / WASM_PAGE_BYTES);
    if (pages > WASM_MAX_PAGES) return undefined;
    const memory = createKernelMemory(pages);
    return new OptimizerMemory(await OptimizerKernel.on(memory), memory.buffer);
  }

  private next = alignedBytes(OPTIMIZER_SCRATCH_BYTES / Float32Array.BYTES_PER_ELEMENT);

  private constructor(readonly kernel: OptimizerKernel, private readonly buffer: ArrayBuffer) {
    memoryBuffers.add(buffer);
  }

  /** `n` zeros, in memory the kernel updates in place; throws past what was reserved. */
  allocate(n: number): Float32Array {
    const bytes = alignedBytes(n);
    if (this.next + bytes > this.buffer.byteLength) throw new RangeError(`OptimizerMemory: ${n} more values do not fit in the ${this.buffer.byteLength} bytes reserved`);
    const array = new Float32Array(this.buffer, this.next, n);
    this.next += bytes;
    return array;
  }

  /** `source`'s values in memory the kernel updates in place. */
  copyIn(source: Float32Array): Float32Array {
    const array = this.allocate(source.length);
    array.set(source);
    return array;
  }
}
