// The noise prefetcher's worker thread (noise-prefetch.ts): for each requested step, in order, it
// draws the noise values n = fround(std · z) chunk after chunk into the shared ring, says when each
// is there, and waits whenever it is a whole ring ahead of what the caller has consumed. Chunks
// run in one sequence across the requested steps (chunk c of a step at sequence base + c, in slot
// sequence mod slots), so the next step's first chunks go into the slots the caller has just
// freed while it is still reading the rest of this one. Between chunks it yields, so that
// 'consumed' messages get through. A reset starts a new generation: queued steps are dropped and
// replies of the old one are ignored by the caller.
import { parentPort } from 'node:worker_threads';
import { NOISE_CHUNK } from './noise.ts';
import { NoiseKernel } from './noise-kernel.ts';

export type NoiseRequest =
  | { type: 'draw'; generation: number; step: number; stepKey: Uint8Array; std: number; buffer: SharedArrayBuffer; totalValues: number; slots: number }
  | { type: 'consumed'; generation: number; sequence: number }
  | { type: 'reset'; generation: number };

export type NoiseReply = { generation: number; step: number; chunk: number; error?: undefined } | { generation: number; step: number; error: string };

interface Job {
  request: Extract<NoiseRequest, { type: 'draw' }>;
  /** Next chunk of the step to draw, and the sequence number of its chunk 0. */
  next: number;
  base: number;
}

const port = parentPort;
if (port === null) throw new Error('noise-worker.ts must run in a worker thread');

let generation = 0;
let jobs: Job[] = [];
/** Chunks given a place in the sequence so far, and chunks the caller has consumed (their slots are free again). */
let assigned = 0;
let consumed = 0;
let scheduled = false;

function reset(next: number): void {
  for (const job of jobs) job.request.stepKey.fill(0);
  jobs = [];
  generation = next;
  assigned = 0;
  consumed = 0;
}

function schedule(): void {
  if (scheduled) return;
  scheduled = true;
  setImmediate(() => {
    scheduled = false;
    void drawNext();
  });
}

const chunksOf = (request: Job['request']): number => Math.ceil(request.totalValues / NOISE_CHUNK);

async function drawNext(): Promise<void> {
  const current = jobs[0];
  if (!current) return;
  const { request } = current;
  if (current.next >= chunksOf(request)) {
    request.stepKey.fill(0);
    jobs.shift();
    return schedule();
  }
  const sequence = current.base + current.next;
  if (sequence - consumed >= request.slots) return; // the ring is full: a 'consumed' resumes it
  try {
    const kernel = await NoiseKernel.load();
    if (jobs[0] !== current) return; // reset meanwhile
    const c = current.next;
    const ring = new Float32Array(request.buffer);
    const slotValues = ring.length / request.slots;
    const at = (sequence % request.slots) * slotValues;
    const slot = ring.subarray(at, at + Math.min(NOISE_CHUNK, request.totalValues - c * NOISE_CHUNK));
    kernel.chunk(request.stepKey, c).draw(slot, request.std);
    current.next = c + 1;
    port!.postMessage({ generation, step: request.step, chunk: c } satisfies NoiseReply);
    schedule();
  } catch (error) {
    port!.postMessage({ generation, step: request.step, error: error instanceof Error ? error.message : String(error) } satisfies NoiseReply);
    reset(generation);
  }
}

port.on('message', (message: NoiseRequest) => {
  switch (message.type) {
    case 'draw':
      if (message.generation !== generation) reset(message.generation);
      jobs.push({ request: message, next: 0, base: assigned });
      assigned += chunksOf(message);
      schedule();
      break;
    case 'consumed':
      if (message.generation !== generation) return;
      consumed = Math.max(consumed, message.sequence);
      schedule();
      break;
    case 'reset':
      reset(message.generation);
      break;
  }
});
