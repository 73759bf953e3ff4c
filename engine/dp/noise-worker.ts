// The noise prefetcher's worker thread (noise-prefetch.ts): on each request it writes the
// noise values n = fround(std · z) of one step into the shared buffer, then says so.
import { parentPort } from 'node:worker_threads';
import { applyStepNoise } from './noise.ts';
import { NoiseKernel } from './noise-kernel.ts';

export interface NoiseRequest {
  step: number;
  stepKey: Uint8Array;
  std: number;
  buffer: SharedArrayBuffer;
}

const port = parentPort;
if (port === null) throw new Error('noise-worker.ts must run in a worker thread');

port.on('message', (request: NoiseRequest) => {
  void (async () => {
    try {
      const kernel = await NoiseKernel.load();
      const noise = new Float32Array(request.buffer);
      noise.fill(0);
      applyStepNoise(kernel, request.stepKey, [noise], request.std, 1);
      port.postMessage({ step: request.step });
    } catch (error) {
      port.postMessage({ step: request.step, error: error instanceof Error ? error.message : String(error) });
    } finally {
      request.stepKey.fill(0);
    }
  })();
});
