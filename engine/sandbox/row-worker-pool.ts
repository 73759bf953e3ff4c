// Warm row workers for one traced function, and a hard deadline per row.
//
// A row is sent to a warm worker (its realm already built). If no outcome has come back by the
// deadline, the worker is terminated, which stops even a native call that QuickJS's interrupt
// handler cannot reach, and the row fails as 'timeout'. Several workers are kept warm, so the next
// row goes to a standby at once while a replacement starts in the background: a kill adds no
// restart time to the run, as long as fewer kills than standbys happen within one start-up time
// (about 0.1–0.6 s here, mostly tsx's loader). Beyond that, later rows wait for a worker; each
// still gets its whole deadline, but the run as a whole takes longer (see slot-clock.ts).
//
// A worker that dies during a row for another reason (its own V8 heap limit) fails that row as
// 'memory' or 'error' and is replaced the same way: one row never fails the run.
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import type { FailureKind } from './guest-harness.ts';
import type { RowWorkerSpec, WorkerOutcome, WorkerToHost } from './row-worker-protocol.ts';

const WORKER_ENTRY = new URL('./row-worker-entry.ts', import.meta.url).href;
// On Node 20 a worker does not inherit the parent's tsx loader (nor does `execArgv` bring it), so
// a bootstrap registers it first; tsx is resolved from this package (engine/train does the same).
const TSX_API = import.meta.resolve('tsx/esm/api');
const BOOTSTRAP = `import(${JSON.stringify(TSX_API)}).then(({ register }) => { register(); return import(${JSON.stringify(WORKER_ENTRY)}); });`;

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
}

export class RowWorkerPool {
  realmsCreated = 0;
  modulesCreated = 0;
  workersStarted = 0;
  private readonly workers: PooledWorker[] = [];
  private readonly waiters: (() => void)[] = [];
  private broken: Error | null = null;
  private closed = false;

  private constructor(private readonly data: RowWorkerSpec, private readonly size: number) {}

  /** Starts `size` workers and resolves once all are warm; rejects if the function does not set up. */
  static async start(data: RowWorkerSpec, size: number): Promise<RowWorkerPool> {
    const pool = new RowWorkerPool(data, size);
    try {
      await Promise.all(Array.from({ length: size }, () => pool.spawn()));
    } catch (err) {
      await pool.close();
      throw err;
    }
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
    const all = this.workers.splice(0);
    for (const e of all) e.port.close();
    await Promise.all(all.map((e) => e.worker.terminate().catch(() => undefined)));
  }

  private async readyWorker(): Promise<PooledWorker> {
    for (;;) {
      if (this.broken) throw this.broken;
      const entry = this.workers.find((e) => e.ready);
      if (entry) return entry;
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  private wake(): void {
    for (const resolve of this.waiters.splice(0)) resolve();
  }

  /** Terminates a worker and starts its replacement in the background. */
  private retire(entry: PooledWorker): void {
    const i = this.workers.indexOf(entry);
    if (i < 0) return;
    this.workers.splice(i, 1);
    entry.ready = false;
    entry.port.close();
    void entry.worker.terminate().catch(() => undefined);
    if (this.closed) return;
    this.spawn().catch((err: unknown) => {
      // The same function set up before, so this is the machine (threads, memory), not a row.
      this.broken = err instanceof Error ? err : new Error(String(err));
      this.wake();
    });
  }

  private spawn(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const { port1, port2 } = new MessageChannel();
      const worker = new Worker(BOOTSTRAP, {
        eval: true,
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
      const entry: PooledWorker = { worker, port: port1, receive, ready: false, settle: null };
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
