// The noise prefetcher's worker thread (noise-prefetch.ts): for a requested step it draws the
// noise values n = fround(std · z) chunk after chunk into the shared ring (chunk c into slot
// c mod slots), says when each is there, and waits whenever it is a whole ring ahead of what the
// caller has consumed. Between chunks it yields, so that 'consumed' messages get through.
import { parentPort } from 'node:worker_threads';
import { NOISE_CHUNK } from './noise.ts';
import { NoiseKernel } from './noise-kernel.ts';

export type NoiseRequest =
  | { type: 'draw'; step: number; stepKey: Uint8Array; std: number; buffer: SharedArrayBuffer; totalValues: number; slots: number }
  | { type: 'consumed'; step: number; chunk: number }
  | { type: 'abandon'; step: number };

export type NoiseReply = { step: number; chunk: number; error?: undefined } | { step: number; error: string };

interface Job {
  request: Extract<NoiseRequest, { type: 'draw' }>;
  /** Next chunk to draw, and chunks the caller has consumed (their slots are free again). */
  next: number;
  consumed: number;
}

const port = parentPort;
if (port === null) throw new Error('noise-worker.ts must run in a worker thread');

let job: Job | undefined;
let scheduled = false;

function finish(): void {
  job?.request.stepKey.fill(0);
  job = undefined;
}

function schedule(): void {
  if (scheduled) return;
  scheduled = true;
  setImmediate(() => {
    scheduled = false;
    void drawNext();
  });
}

async function drawNext(): Promise<void> {
  const current = job;
  if (!current) return;
  const { request } = current;
  const chunkCount = Math.ceil(request.totalValues / NOISE_CHUNK);
  if (current.next >= chunkCount) return finish();
  if (current.next - current.consumed >= request.slots) return; // the ring is full: a 'consumed' resumes it
  try {
    const kernel = await NoiseKernel.load();
    if (job !== current) return; // abandoned meanwhile
    const c = current.next;
    const ring = new Float32Array(request.buffer);
    const slotValues = ring.length / request.slots;
    const slot = ring.subarray((c % request.slots) * slotValues, (c % request.slots) * slotValues + Math.min(NOISE_CHUNK, request.totalValues - c * NOISE_CHUNK));
    slot.fill(0);
    kernel.chunk(request.stepKey, c).apply(slot, request.std, 1);
    current.next = c + 1;
    port!.postMessage({ step: request.step, chunk: c } satisfies NoiseReply);
    schedule();
  } catch (error) {
    port!.postMessage({ step: request.step, error: error instanceof Error ? error.message : String(error) } satisfies NoiseReply);
    finish();
  }
}

port.on('message', (message: NoiseRequest) => {
  switch (message.type) {
    case 'draw':
      finish();
      job = { request: message, next: 0, consumed: 0 };
      schedule();
      break;
    case 'consumed':
      if (job?.request.step !== message.step) return;
      job.consumed = Math.max(job.consumed, message.chunk + 1);
      schedule();
      break;
    case 'abandon':
      if (job?.request.step === message.step) finish();
      break;
  }
});
