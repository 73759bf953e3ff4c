// The noise of a step depends only on (run key, step), so it can be drawn before the step's
// gradients exist: a worker thread draws step s's noise while the caller computes gradients (and
// runs the optimizer of s − 1). The caller then takes it piece by piece, in flat parameter order:
// privatize() adds it, fround((g + n) · scale), exactly as privatizeGradientSum does in one pass
// (same bits), or noise() hands the pieces to the optimizer, which adds them as it reads the
// gradient, the same bits again without a pass of their own. The noise comes in its chunks
// (NOISE_CHUNK values, each a pure function of the step key and its index) through a ring of a few
// chunks in shared memory: the worker runs ahead of the caller by at most the ring's size, so the
// memory is bounded (512 MiB by default) instead of a float32 per parameter, a whole model's
// worth. The next step may be requested while this one is taken: its first chunks are drawn into
// the slots as they are freed.
import type { Worker } from 'node:worker_threads';
import { startModuleWorker } from '../threads/module-worker.ts';
import { NoiseKernel } from './noise-kernel.ts';
import { NOISE_CHUNK } from './noise.ts';
import { deriveStepKey } from './streams.ts';
import type { RunKey } from './run-key.ts';
import type { NoiseReply, NoiseRequest } from './noise-drawer.ts';

const WORKER_ENTRY = new URL('./noise-worker.ts', import.meta.url).href;

/** Chunks drawn ahead by default: 32 × 2²² float32 = 512 MiB, all of GPT-2 small's noise. */
export const DEFAULT_PREFETCH_CHUNKS = 32;

export interface NoisePrefetchOptions {
  /** Chunks the ring holds (the most drawn ahead of privatize). Default DEFAULT_PREFETCH_CHUNKS. */
  ringChunks?: number;
}

interface PendingStep {
  step: number;
  /** Sequence number of the step's chunk 0 (see noise-drawer.ts), and chunks drawn so far. */
  base: number;
  drawn: number;
}

/** Receives the noise piece by piece: tensor, start in it, length, the scale and the values. */
type PieceVisitor = (tensor: number, start: number, length: number, scale: number, noise: Float32Array) => void;

/** Steps that may be requested and not yet taken: the one being taken and the next. */
const MAX_REQUESTED = 2;

export class NoisePrefetcher {
  private readonly worker: Worker;
  private readonly ring: Float32Array;
  private readonly buffer: SharedArrayBuffer;
  private readonly chunkCount: number;
  private readonly slots: number;
  private queue: PendingStep[] = [];
  private assigned = 0;
  private generation = 0;
  private error: Error | undefined;
  private wake: (() => void) | undefined;

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
    this.worker = startModuleWorker(WORKER_ENTRY);
    this.worker.on('message', (reply: NoiseReply) => {
      if (reply.generation !== this.generation) return;
      if (reply.error !== undefined) this.error = new Error(`noise worker: ${reply.error}`);
      else {
        const pending = this.queue.find((p) => p.step === reply.step);
        if (pending) pending.drawn = reply.chunk + 1;
      }
      this.wake?.();
    });
    this.worker.on('error', (error) => {
      this.error = error;
      this.wake?.();
    });
    // After the listeners: in Node 20 a 'message' listener added later takes the worker's ref back.
    this.worker.unref();
  }

  /** Starts drawing step `step`'s noise; at most the step being taken and one more may be waiting. */
  request(step: number): void {
    if (this.queue.length >= MAX_REQUESTED) throw new Error(`NoisePrefetcher: steps ${this.queue.map((p) => p.step).join(', ')} were requested and not consumed`);
    const message: NoiseRequest = {
      type: 'draw', generation: this.generation, step, stepKey: deriveStepKey(this.runKey, 'noise', step), std: this.std,
      buffer: this.buffer, totalValues: this.totalValues, slots: this.slots,
    };
    this.worker.postMessage(message, [message.stepKey.buffer as ArrayBuffer]); // moved, not copied
    this.queue.push({ step, base: this.assigned, drawn: 0 });
    this.assigned += this.chunkCount;
  }

  /** As privatizeGradientSum(runKey, step, gradSum, std, expectedBatchSize), from the prefetched noise. */
  async privatize(step: number, gradSum: readonly Float32Array[], expectedBatchSize: number): Promise<void> {
    const noise = this.noise(step, expectedBatchSize);
    const kernel = await NoiseKernel.load();
    await noise.forEachPiece(gradSum.map((g) => g.length), (k, start, length, scale, values) => {
      kernel.addScaled(gradSum[k].subarray(start, start + length), values!, scale); // fround((g + n)·scale), as the JS loop
    });
  }

  /**
   * Step `step`'s noise for an optimizer to add as it reads the gradient (a GradientTransform of
   * engine/optim): the same values as privatize, taken once. A step other than the one drawn
   * ahead drops what was drawn and is drawn now.
   */
  noise(step: number, expectedBatchSize: number): { forEachPiece(lengths: readonly number[], visit: PieceVisitor): Promise<void> } {
    if (!(expectedBatchSize > 0)) throw new RangeError(`privatize: expectedBatchSize must be > 0, got ${expectedBatchSize}`);
    return { forEachPiece: (lengths, visit) => this.take(step, 1 / expectedBatchSize, lengths, visit) };
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }

  private async take(step: number, scale: number, lengths: readonly number[], visit: PieceVisitor): Promise<void> {
    const values = lengths.reduce((n, length) => n + length, 0);
    if (values !== this.totalValues) throw new RangeError(`privatize: ${values} gradient values, the prefetcher was made for ${this.totalValues}`);
    if (this.queue[0]?.step !== step) {
      this.reset();
      this.request(step);
    }
    const pending = this.queue[0];
    const slotValues = this.ring.length / this.slots;
    let k = 0; // tensor and position in it where the next chunk starts
    let i = 0;
    try {
      for (let c = 0; c < this.chunkCount; c++) {
        await this.drawn(pending, c);
        const length = Math.min(NOISE_CHUNK, this.totalValues - c * NOISE_CHUNK);
        const at = ((pending.base + c) % this.slots) * slotValues;
        const noise = this.ring.subarray(at, at + length);
        for (let j = 0; j < length;) {
          const n = Math.min(length - j, lengths[k] - i);
          if (n > 0) visit(k, i, n, scale, noise.subarray(j, j + n));
          j += n;
          i += n;
          if (i === lengths[k]) {
            k += 1;
            i = 0;
          }
        }
        this.worker.postMessage({ type: 'consumed', generation: this.generation, sequence: pending.base + c + 1 } satisfies NoiseRequest);
      }
      this.queue.shift();
    } catch (error) {
      this.reset(); // the worker's place in the ring no longer matches ours
      throw error;
    }
  }

  private async drawn(pending: PendingStep, chunk: number): Promise<void> {
    // The worker keeps the process alive only while something waits on it.
    this.worker.ref();
    try {
      while (pending.drawn <= chunk && this.error === undefined) {
        await new Promise<void>((resolve) => {
          this.wake = resolve;
        });
        this.wake = undefined;
      }
    } finally {
      this.worker.unref();
    }
    if (this.error) throw this.error;
  }

  /** Drops every requested step: a new generation, whose chunks start again at sequence 0. */
  private reset(): void {
    this.generation += 1;
    this.queue = [];
    this.assigned = 0;
    this.error = undefined;
    this.worker.postMessage({ type: 'reset', generation: this.generation } satisfies NoiseRequest);
  }
}
