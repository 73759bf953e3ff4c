// The noise of a step depends only on (run key, step), so it can be drawn before the step's
// gradients exist: a worker thread draws step s's noise while the caller computes gradients (and
// runs the optimizer of s − 1), and privatize() then only adds it, fround((g + n) · scale), exactly
// as privatizeGradientSum does in one pass: same bits. The noise comes in its chunks (NOISE_CHUNK
// values, each a pure function of the step key and its index) through a ring of a few chunks in
// shared memory: the worker runs ahead of privatize() by at most the ring's size, so the memory is
// bounded (512 MiB by default) instead of a float32 per parameter, a whole model's worth.
import { Worker } from 'node:worker_threads';
import { NoiseKernel } from './noise-kernel.ts';
import { NOISE_CHUNK } from './noise.ts';
import { deriveStepKey } from './streams.ts';
import type { RunKey } from './run-key.ts';
import type { NoiseReply, NoiseRequest } from './noise-worker.ts';

const WORKER_ENTRY = new URL('./noise-worker.ts', import.meta.url).href;
// Node 20 workers do not inherit tsx's loader (see engine/train/worker-runner.ts): register it first.
const TSX_API = import.meta.resolve('tsx/esm/api');
const BOOTSTRAP = `import(${JSON.stringify(TSX_API)}).then(({ register }) => { register(); return import(${JSON.stringify(WORKER_ENTRY)}); });`;

/** Chunks drawn ahead by default: 32 × 2²² float32 = 512 MiB, all of GPT-2 small's noise. */
export const DEFAULT_PREFETCH_CHUNKS = 32;

export interface NoisePrefetchOptions {
  /** Chunks the ring holds (the most drawn ahead of privatize). Default DEFAULT_PREFETCH_CHUNKS. */
  ringChunks?: number;
}

interface PendingStep {
  step: number;
  /** Chunks the worker has drawn so far for this step. */
  drawn: number;
  error?: Error;
  wake?: () => void;
}

export class NoisePrefetcher {
  private readonly worker: Worker;
  private readonly ring: Float32Array;
  private readonly buffer: SharedArrayBuffer;
  private readonly chunkCount: number;
  private readonly slots: number;
  private pending: PendingStep | undefined;

  /** For parameter vectors of `totalValues` values and noise std σC. */
  constructor(private readonly runKey: RunKey, private readonly totalValues: number, private readonly std: number, options: NoisePrefetchOptions = {}) {
    if (!(std >= 0) || !Number.isFinite(std)) throw new RangeError(`NoisePrefetcher: the noise std must be finite and ≥ 0, got ${std}`);
    if (!(Number.isSafeInteger(totalValues) && totalValues > 0)) throw new RangeError(`NoisePrefetcher: totalValues must be a positive integer, got ${totalValues}`);
    const ringChunks = options.ringChunks ?? DEFAULT_PREFETCH_CHUNKS;
    if (!(Number.isSafeInteger(ringChunks) && ringChunks >= 1)) throw new RangeError(`NoisePrefetcher: ringChunks must be a positive integer, got ${ringChunks}`);
    this.chunkCount = Math.ceil(totalValues / NOISE_CHUNK);
    this.slots = Math.min(ringChunks, this.chunkCount);
    this.buffer = new SharedArrayBuffer(this.slots * Math.min(NOISE_CHUNK, totalValues) * Float32Array.BYTES_PER_ELEMENT);
    this.ring = new Float32Array(this.buffer);
    this.worker = new Worker(BOOTSTRAP, { eval: true });
    this.worker.unref();
    this.worker.on('message', (reply: NoiseReply) => {
      const pending = this.pending;
      if (pending?.step !== reply.step) return;
      if (reply.error !== undefined) pending.error = new Error(`noise worker: ${reply.error}`);
      else pending.drawn = reply.chunk + 1;
      pending.wake?.();
    });
    this.worker.on('error', (error) => {
      if (!this.pending) return;
      this.pending.error = error;
      this.pending.wake?.();
    });
  }

  /** Starts drawing step `step`'s noise (the previous request must have been consumed). */
  request(step: number): void {
    if (this.pending !== undefined) throw new Error(`NoisePrefetcher: step ${this.pending.step} was requested and not consumed`);
    const message: NoiseRequest = {
      type: 'draw', step, stepKey: deriveStepKey(this.runKey, 'noise', step), std: this.std, buffer: this.buffer, totalValues: this.totalValues, slots: this.slots,
    };
    this.worker.postMessage(message, [message.stepKey.buffer as ArrayBuffer]); // moved, not copied
    this.pending = { step, drawn: 0 };
  }

  /** As privatizeGradientSum(runKey, step, gradSum, std, expectedBatchSize), from the prefetched noise. */
  async privatize(step: number, gradSum: readonly Float32Array[], expectedBatchSize: number): Promise<void> {
    if (!(expectedBatchSize > 0)) throw new RangeError(`privatize: expectedBatchSize must be > 0, got ${expectedBatchSize}`);
    const values = gradSum.reduce((n, g) => n + g.length, 0);
    if (values !== this.totalValues) throw new RangeError(`privatize: ${values} gradient values, the prefetcher was made for ${this.totalValues}`);
    if (this.pending?.step !== step) {
      if (this.pending !== undefined) this.abandon();
      this.request(step);
    }
    const pending = this.pending!;
    const kernel = await NoiseKernel.load();
    const scale = 1 / expectedBatchSize;
    const slotValues = this.ring.length / this.slots;
    let k = 0; // gradSum buffer and position in it where the next chunk starts
    let i = 0;
    try {
      for (let c = 0; c < this.chunkCount; c++) {
        await this.drawn(pending, c);
        const length = Math.min(NOISE_CHUNK, this.totalValues - c * NOISE_CHUNK);
        const noise = this.ring.subarray((c % this.slots) * slotValues, (c % this.slots) * slotValues + length);
        for (let j = 0; j < length;) {
          const g = gradSum[k];
          const n = Math.min(length - j, g.length - i);
          kernel.addScaled(g.subarray(i, i + n), noise.subarray(j, j + n), scale); // fround((g + n)·scale), as the JS loop
          j += n;
          i += n;
          if (i === g.length) {
            k += 1;
            i = 0;
          }
        }
        this.worker.postMessage({ type: 'consumed', step, chunk: c } satisfies NoiseRequest);
      }
    } finally {
      this.pending = undefined;
    }
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }

  private async drawn(pending: PendingStep, chunk: number): Promise<void> {
    while (pending.drawn <= chunk && pending.error === undefined) {
      await new Promise<void>((resolve) => {
        pending.wake = resolve;
      });
      pending.wake = undefined;
    }
    if (pending.error) throw pending.error;
  }

  /** Tells the worker to drop a step that will not be consumed (privatize of another step came first). */
  private abandon(): void {
    this.worker.postMessage({ type: 'abandon', step: this.pending!.step } satisfies NoiseRequest);
    this.pending = undefined;
  }
}
