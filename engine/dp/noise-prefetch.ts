// The noise of a step depends only on (run key, step), so it can be drawn before the step's
// gradients exist: a worker thread writes step s's noise into a shared buffer while the caller
// computes gradients (and runs the optimizer of s − 1), and privatize() then only adds it,
// fround((g + n) · scale), exactly as privatizeGradientSum does in one pass: same bits. Costs one
// float32 per parameter of memory; worth it where the gradient graph leaves a core free.
import { Worker } from 'node:worker_threads';
import { deriveStepKey } from './streams.ts';
import type { RunKey } from './run-key.ts';
import type { NoiseRequest } from './noise-worker.ts';

const WORKER_ENTRY = new URL('./noise-worker.ts', import.meta.url).href;
// Node 20 workers do not inherit tsx's loader (see engine/train/worker-runner.ts): register it first.
const TSX_API = import.meta.resolve('tsx/esm/api');
const BOOTSTRAP = `import(${JSON.stringify(TSX_API)}).then(({ register }) => { register(); return import(${JSON.stringify(WORKER_ENTRY)}); });`;

export class NoisePrefetcher {
  private readonly worker: Worker;
  private readonly noise: Float32Array;
  private readonly buffer: SharedArrayBuffer;
  private pending: { step: number; ready: Promise<void> } | undefined;

  /** For parameter vectors of `totalValues` values and noise std σC. */
  constructor(private readonly runKey: RunKey, totalValues: number, private readonly std: number) {
    if (!(std >= 0) || !Number.isFinite(std)) throw new RangeError(`NoisePrefetcher: the noise std must be finite and ≥ 0, got ${std}`);
    this.buffer = new SharedArrayBuffer(totalValues * Float32Array.BYTES_PER_ELEMENT);
    this.noise = new Float32Array(this.buffer);
    this.worker = new Worker(BOOTSTRAP, { eval: true });
    this.worker.unref();
  }

  /** Starts drawing step `step`'s noise (the previous request must have been consumed). */
  request(step: number): void {
    if (this.pending !== undefined) throw new Error(`NoisePrefetcher: step ${this.pending.step} was requested and not consumed`);
    const ready = new Promise<void>((resolve, reject) => {
      const onMessage = (reply: { step: number; error?: string }): void => {
        if (reply.step !== step) return;
        this.worker.off('message', onMessage);
        this.worker.off('error', reject);
        if (reply.error !== undefined) reject(new Error(`noise worker: ${reply.error}`));
        else resolve();
      };
      this.worker.on('message', onMessage);
      this.worker.once('error', reject);
    });
    ready.catch(() => undefined); // observed by privatize(); no unhandled rejection before then
    const message: NoiseRequest = { step, stepKey: deriveStepKey(this.runKey, 'noise', step), std: this.std, buffer: this.buffer };
    this.worker.postMessage(message, [message.stepKey.buffer as ArrayBuffer]); // moved, not copied
    this.pending = { step, ready };
  }

  /** As privatizeGradientSum(runKey, step, gradSum, std, expectedBatchSize), from the prefetched noise. */
  async privatize(step: number, gradSum: readonly Float32Array[], expectedBatchSize: number): Promise<void> {
    if (!(expectedBatchSize > 0)) throw new RangeError(`privatize: expectedBatchSize must be > 0, got ${expectedBatchSize}`);
    if (this.pending?.step !== step) this.request(step);
    await this.pending!.ready;
    this.pending = undefined;
    const scale = 1 / expectedBatchSize;
    const noise = this.noise;
    let flat = 0;
    for (const g of gradSum) {
      if (flat + g.length > noise.length) throw new RangeError('privatize: more gradient values than the prefetcher was made for');
      for (let i = 0; i < g.length; i++) g[i] = (g[i] + noise[flat + i]) * scale; // one rounding, on the store
      flat += g.length;
    }
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }
}
