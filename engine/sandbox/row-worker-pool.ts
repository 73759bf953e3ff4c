// Warm row workers for one traced function, and a hard deadline per row.
//
// A row is sent to a warm worker (its realm already built). If no outcome has come back by the
// deadline, the worker is terminated, which stops even a native call that QuickJS's interrupt
// handler cannot reach, and the row fails as 'timeout'. Several workers are kept warm, so the next
// row goes to a standby at once: a kill adds no restart time to the run.
//
// Replacements start on a fixed cadence, not when a worker is killed: every `refreshMs` one new
// worker starts, and once it is warm the oldest idle worker beyond the pool's size is retired. A
// worker start costs a core 0.2–1.5 s (mostly tsx's loader), and a start triggered by each kill
// would slow the rows beside it and the host's timers in proportion to how many rows were killed,
// a timing signal of its own (measured: a few ms per run). With the cadence, the CPU spent on
// starts is the same whatever the rows do. What the rows can still change is how many standbys
// are left: more kills than standbys within a few refresh periods make later rows wait for a
// worker (each still gets its whole deadline, but the run takes longer; see slot-clock.ts).
//
// A worker that dies during a row for another reason (its own V8 heap limit) fails that row as
// 'memory' or 'error' and is retired the same way: one row never fails the run.
import { MessageChannel, receiveMessageOnPort, type MessagePort, type Worker } from 'node:worker_threads';
import { startModuleWorker } from '../threads/module-worker.ts';
import type { FailureKind } from './guest-harness.ts';
import type { RowWorkerSpec, WorkerOutcome, WorkerToHost } from './row-worker-protocol.ts';

const WORKER_ENTRY = new URL('./row-worker-entry.ts', import.meta.url).href;

/** A worker's own V8 heap (row JSON, result strings): bounded so a row cannot swell the host process. */
const WORKER_HEAP_MB = 256;
/**
 * A worker's thread stack, as small as a main thread's: QuickJS's C recursions (JSON.stringify of
 * nested arrays) are checked only by the host's stack, and cost time quadratic in their depth, so
 * a deep stack would let one row recurse for seconds before it overflows.
 */
const WORKER_STACK_MB = 1;

export interface RowResult {
  readonly outcome: WorkerOutcome;
  /** The row's worker was terminated at the deadline. */
  readonly killed: boolean;
}

type Settle = (outcome: WorkerOutcome, killed: boolean, elapsedMs: number) => void;

interface PooledWorker {
  readonly worker: Worker;
  /** Both directions go through this port, so a pending answer can be read synchronously. */
  readonly port: MessagePort;
  readonly receive: (message: WorkerToHost) => void;
  ready: boolean;
  /** Settles the row in flight, if any. */
  settle: Settle | null;
  /** When it last took a row (a counter): rows go round the warm workers. */
  lastUsed: number;
}

export class RowWorkerPool {
  realmsCreated = 0;
  modulesCreated = 0;
  workersStarted = 0;
  private readonly workers: PooledWorker[] = [];
  private readonly waiters: (() => void)[] = [];
  private broken: Error | null = null;
  private closed = false;

  private refreshTimer: ReturnType<typeof setInterval> | null = null;
  private starting = 0;
  private rowsSent = 0;

  /**
   * `refreshMs`: the cadence of worker starts; null replaces a killed worker at once instead (for
   * tests that count realms and instances, where the rows' timing is not the point).
   */
  private constructor(private readonly data: RowWorkerSpec, private readonly size: number, private readonly refreshMs: number | null) {}

  /** Starts `size` workers and resolves once all are warm; rejects if the function does not set up. */
  static async start(data: RowWorkerSpec, size: number, refreshMs: number | null): Promise<RowWorkerPool> {
    const pool = new RowWorkerPool(data, size, refreshMs);
    try {
      await Promise.all(Array.from({ length: size }, () => pool.spawn()));
    } catch (err) {
      await pool.close();
      throw err;
    }
    if (refreshMs !== null) pool.refreshTimer = setInterval(() => pool.refresh(), refreshMs);
    return pool;
  }

  /** Runs one row; resolves by `deadlineMs` after a worker took it (plus timer latency). */
  async run(inputJson: string, deadlineMs: number): Promise<RowResult> {
    const entry = await this.readyWorker();
    entry.ready = false;
    return new Promise<RowResult>((resolve) => {
      const timer = setTimeout(() => {
        // A host busy when the answer came may see this timer first: take an answer already queued.
        for (let m = receiveMessageOnPort(entry.port); m && entry.settle === finish; m = receiveMessageOnPort(entry.port)) {
          entry.receive(m.message as WorkerToHost);
        }
        if (entry.settle !== finish) return;
        // Past the deadline: whatever the worker is doing, it stops now.
        this.retire(entry);
        finish({ ok: false, kind: 'timeout' }, true, deadlineMs);
      }, deadlineMs);
      const finish: Settle = (outcome, killed, elapsedMs) => {
        clearTimeout(timer);
        entry.settle = null;
        // An answer that reached a busy host late still counts by the worker's own clock.
        resolve({ outcome: elapsedMs > deadlineMs ? { ok: false, kind: 'timeout' } : outcome, killed });
      };
      entry.settle = finish;
      entry.port.postMessage({ type: 'row', inputJson });
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.refreshTimer) clearInterval(this.refreshTimer);
    const all = this.workers.splice(0);
    for (const e of all) e.port.close();
    await Promise.all(all.map((e) => e.worker.terminate().catch(() => undefined)));
  }

  private async readyWorker(): Promise<PooledWorker> {
    for (;;) {
      if (this.broken) throw this.broken;
      // Round the warm workers, so that every standby is as warm (JIT tiers, caches) as the worker
      // it may replace: after a kill the next row runs no slower than before it.
      const entry = this.workers.filter((e) => e.ready).sort((a, b) => a.lastUsed - b.lastUsed)[0];
      if (entry) {
        entry.lastUsed = ++this.rowsSent;
        return entry;
      }
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  private wake(): void {
    for (const resolve of this.waiters.splice(0)) resolve();
  }

  /** Terminates a worker (killed, or dead); without a cadence its replacement starts at once. */
  private retire(entry: PooledWorker): void {
    if (!this.workers.includes(entry)) return;
    this.retireQuietly(entry);
    entry.ready = false;
    if (this.refreshMs === null) this.startInBackground();
  }

  /** One tick of the cadence: a new worker, then the oldest idle one beyond the pool's size goes. */
  private refresh(): void {
    if (this.closed || this.starting > 0) return; // a start still under way (a slow machine, not a row)
    this.startInBackground(() => {
      const idle = this.workers.filter((e) => e.ready && e.settle === null);
      if (this.workers.length > this.size && idle.length > 1) this.retireQuietly(idle[0]);
    });
  }

  private startInBackground(then?: () => void): void {
    if (this.closed) return;
    this.starting++;
    this.spawn().then(() => {
      this.starting--;
      then?.();
    }, (err: unknown) => {
      this.starting--;
      // The same function set up before, so this is the machine (threads, memory), not a row.
      this.broken = err instanceof Error ? err : new Error(String(err));
      this.wake();
    });
  }

  private spawn(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const { port1, port2 } = new MessageChannel();
      const worker = startModuleWorker(WORKER_ENTRY, {
        workerData: { ...this.data, port: port2 },
        transferList: [port2],
        resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_MB, stackSizeMb: WORKER_STACK_MB },
      });
      let started = false;
      const receive = (message: WorkerToHost): void => {
        switch (message.type) {
          case 'ready':
            this.realmsCreated += message.realmsCreated;
            this.modulesCreated += message.modulesCreated;
            entry.ready = entry.settle === null;
            if (!started) {
              started = true;
              resolve();
            }
            this.wake();
            break;
          case 'outcome':
            entry.ready = message.ready;
            entry.settle?.(message.outcome, false, message.elapsedMs);
            if (message.ready) this.wake();
            break;
          case 'setupFailed':
            this.retireQuietly(entry);
            reject(new Error(message.message));
            break;
        }
      };
      const entry: PooledWorker = { worker, port: port1, receive, ready: false, settle: null, lastUsed: 0 };
      this.workers.push(entry);
      this.workersStarted++;
      port1.on('message', receive);
      const died = (kind: Exclude<FailureKind, 'timeout'>): void => {
        const settle = entry.settle;
        if (!started) {
          this.retireQuietly(entry);
          reject(new Error('a sandbox worker could not start'));
          return;
        }
        if (!this.workers.includes(entry)) return; // retired on purpose
        this.retire(entry);
        settle?.({ ok: false, kind }, false, 0);
      };
      // The error's message is never read: it could come from a row.
      worker.on('error', (err: Error & { code?: string }) => died(err.code === 'ERR_WORKER_OUT_OF_MEMORY' ? 'memory' : 'error'));
      worker.on('exit', () => died('error'));
    });
  }

  private retireQuietly(entry: PooledWorker): void {
    const i = this.workers.indexOf(entry);
    if (i >= 0) this.workers.splice(i, 1);
    entry.port.close();
    void entry.worker.terminate().catch(() => undefined);
  }

  get poolSize(): number {
    return this.size;
  }
}
