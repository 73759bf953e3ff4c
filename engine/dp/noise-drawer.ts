// What the noise prefetcher's worker thread does (noise-worker.ts is its shell): for each
// requested step, in order, it draws the noise values n = fround(std · z) chunk after chunk into
// the shared ring, says when each is there, and waits whenever it is a whole ring ahead of what the
// caller has consumed. Chunks run in one sequence across the requested steps (chunk c of a step at
// sequence base + c, in slot sequence mod slots), so the next step's first chunks go into the slots
// the caller has just freed while it is still reading the rest of this one. Between chunks it
// yields, so that 'consumed' messages get through. A reset starts a new generation: queued steps
// are dropped and replies of the old one are ignored by the caller.
//
// A draw decides its chunk and slot and writes them without yielding in between: one that yielded
// there (to await the kernel, say) would let a second draw take the same slot for the next chunk
// and write over noise the caller is about to read. The kernel compiles asynchronously, so draws
// start only once it is there.
import { NOISE_CHUNK } from './noise.ts';
import type { NoiseKernel } from './noise-kernel.ts';

export type NoiseRequest =
  | { type: 'draw'; generation: number; step: number; stepKey: Uint8Array; std: number; buffer: SharedArrayBuffer; totalValues: number; slots: number }
  | { type: 'consumed'; generation: number; sequence: number }
  | { type: 'reset'; generation: number };

export type NoiseReply = { generation: number; step: number; chunk: number; error?: undefined } | { generation: number; step: number; error: string };

/** The part of NoiseKernel a drawer uses. */
export type ChunkDrawer = Pick<NoiseKernel, 'chunk'>;

interface Job {
  request: Extract<NoiseRequest, { type: 'draw' }>;
  /** Next chunk of the step to draw, and the sequence number of its chunk 0. */
  next: number;
  base: number;
}

const chunksOf = (request: Job['request']): number => Math.ceil(request.totalValues / NOISE_CHUNK);

export class NoiseDrawer {
  private kernel: ChunkDrawer | undefined;
  private loadError: string | undefined;
  private generation = 0;
  private jobs: Job[] = [];
  /** Chunks given a place in the sequence so far, and chunks the caller has consumed (their slots are free again). */
  private assigned = 0;
  private consumed = 0;
  private scheduled = false;

  /** Draws start once `kernel` is there; requests that come before wait for it. */
  constructor(kernel: Promise<ChunkDrawer>, private readonly reply: (reply: NoiseReply) => void) {
    kernel.then(
      (loaded) => {
        this.kernel = loaded;
        this.schedule();
      },
      (error: unknown) => {
        this.loadError = error instanceof Error ? error.message : String(error);
        this.schedule();
      },
    );
  }

  handle(message: NoiseRequest): void {
    switch (message.type) {
      case 'draw':
        if (message.generation !== this.generation) this.reset(message.generation);
        this.jobs.push({ request: message, next: 0, base: this.assigned });
        this.assigned += chunksOf(message);
        this.schedule();
        break;
      case 'consumed':
        if (message.generation !== this.generation) return;
        this.consumed = Math.max(this.consumed, message.sequence);
        this.schedule();
        break;
      case 'reset':
        this.reset(message.generation);
        break;
    }
  }

  private reset(next: number): void {
    for (const job of this.jobs) job.request.stepKey.fill(0);
    this.jobs = [];
    this.generation = next;
    this.assigned = 0;
    this.consumed = 0;
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.drawNext();
    });
  }

  /** Draws the next chunk if its slot is free; synchronous from the choice of the slot to the reply. */
  private drawNext(): void {
    const current = this.jobs[0];
    if (!current) return;
    const { request } = current;
    if (this.loadError !== undefined) {
      this.reply({ generation: this.generation, step: request.step, error: this.loadError });
      return this.reset(this.generation);
    }
    if (!this.kernel) return; // the kernel's arrival schedules the draw
    if (current.next >= chunksOf(request)) {
      request.stepKey.fill(0);
      this.jobs.shift();
      return this.schedule();
    }
    const c = current.next;
    const sequence = current.base + c;
    if (sequence - this.consumed >= request.slots) return; // the ring is full: a 'consumed' resumes it
    try {
      const ring = new Float32Array(request.buffer);
      const slotValues = ring.length / request.slots;
      const at = (sequence % request.slots) * slotValues;
      const slot = ring.subarray(at, at + Math.min(NOISE_CHUNK, request.totalValues - c * NOISE_CHUNK));
      this.kernel.chunk(request.stepKey, c).draw(slot, request.std);
      current.next = c + 1;
      this.reply({ generation: this.generation, step: request.step, chunk: c });
      this.schedule();
    } catch (error) {
      this.reply({ generation: this.generation, step: request.step, error: error instanceof Error ? error.message : String(error) });
      this.reset(this.generation);
    }
  }
}
