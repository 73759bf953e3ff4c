// AdamW's moments in WebAssembly memory. The update streams every tensor through the kernel's
// memory a block at a time, and those copies, not the arithmetic, are most of its time: with the
// moments living in the memory of a kernel instance, it reads and writes them in place and copies
// only the parameters, the gradient and the noise (GPT-2 small, 124 M values, alone and with the
// kernel's 8192-value blocks: 0.38 → 0.35 s per step without noise, 0.47 → 0.42 s with it).
//
// The price is at live checkpoints from a worker thread: a WebAssembly memory cannot be moved to
// another thread, so postMessage copies it (engine/train/worker-entry.ts), for as long as the upload
// takes. So the moments live there only when all of them fit in RESIDENT_MOMENTS_MAX_BYTES, which
// bounds that copy (GPT-2 small fits, with DP-LoRA's adapters of any size); larger models keep
// ordinary arrays, moved without a copy, and the copying update.
import { WASM_PAGE_BYTES, createKernelMemory, type KernelMemory } from '../random/wat.ts';
import { OPTIMIZER_SCRATCH_BYTES } from './optimizer-kernel.ts';

/** The most memory the moments may take in a kernel memory (the copy a live checkpoint makes). */
export const RESIDENT_MOMENTS_MAX_BYTES = 2 ** 30;
/** Each moment is padded to a multiple of 4 values, so that every one starts on a lane (16 bytes). */
const paddedBytes = (n: number): number => Math.ceil(n / 4) * 4 * Float32Array.BYTES_PER_ELEMENT;

export interface Moments {
  /** The kernel memory the moments live in, or undefined: ordinary arrays. */
  memory: KernelMemory | undefined;
  expAvg: Float32Array[];
  expAvgSq: Float32Array[];
}

/**
 * First and second moments for tensors of `sizes` values, in one kernel memory if they fit: zeroed,
 * or holding `resumed`'s values. Ordinary arrays are `resumed`'s own (adopted, not copied).
 */
export function allocateMoments(sizes: readonly number[], resumed?: { expAvg: Float32Array[]; expAvgSq: Float32Array[] }): Moments {
  const bytes = OPTIMIZER_SCRATCH_BYTES + 2 * sizes.reduce((sum, n) => sum + paddedBytes(n), 0);
  if (bytes > RESIDENT_MOMENTS_MAX_BYTES) {
    const zeros = (): Float32Array[] => sizes.map((n) => new Float32Array(n));
    return { memory: undefined, expAvg: resumed?.expAvg ?? zeros(), expAvgSq: resumed?.expAvgSq ?? zeros() };
  }
  const memory = createKernelMemory(Math.ceil(bytes / WASM_PAGE_BYTES));
  let at = OPTIMIZER_SCRATCH_BYTES;
  const next = (n: number): Float32Array => {
    const moment = new Float32Array(memory.buffer, at, n);
    at += paddedBytes(n);
    return moment;
  };
  const expAvg = sizes.map(next);
  const expAvgSq = sizes.map(next);
  resumed?.expAvg.forEach((m, k) => expAvg[k].set(m));
  resumed?.expAvgSq.forEach((v, k) => expAvgSq[k].set(v));
  return { memory, expAvg, expAvgSq };
}
