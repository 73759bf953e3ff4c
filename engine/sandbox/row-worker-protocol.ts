// Messages between the host and a row worker (row-worker-entry.ts). Rows travel as JSON text
// and come back as JSON text or a failure kind: never a message, so nothing a function throws on
// a real row can reach the host.
import type { MessagePort } from 'node:worker_threads';
import type { RowOutcome } from './quickjs-realm.ts';

export interface RowWorkerData {
  /** The traced function's expression (verified by the host). */
  readonly expression: string;
  /** QuickJS interrupt deadline per row, shorter than the host's hard deadline. */
  readonly interruptMs: number;
  readonly maxStackBytes: number;
  readonly memoryLimitBytes: number;
  readonly batchSize: number;
  /** The host's compiled QuickJS WebAssembly.Module, so the worker does not compile it again. */
  readonly wasmModule: object;
  /** The channel to the host, both ways (the host reads a queued answer synchronously at a deadline). */
  readonly port: MessagePort;
}

/** What the pool is given; it adds a fresh port for each worker. */
export type RowWorkerSpec = Omit<RowWorkerData, 'port'>;

export type HostToWorker = { readonly type: 'row'; readonly inputJson: string };

/** Real rows only: the outcome carries no message. */
export type WorkerOutcome =
  | { readonly ok: true; readonly json: string }
  | { readonly ok: false; readonly kind: Exclude<RowOutcome, { ok: true }>['kind'] };

export type WorkerToHost =
  /** Realm built (after start-up or after the previous row spoiled the realm); counters are increments. */
  | { readonly type: 'ready'; readonly realmsCreated: number; readonly modulesCreated: number }
  /** `ready` says whether the worker can take the next row at once (otherwise a 'ready' follows). */
  | { readonly type: 'outcome'; readonly outcome: WorkerOutcome; readonly elapsedMs: number; readonly ready: boolean }
  /** The function could not be set up (before any row): the message is about the analyst's source. */
  | { readonly type: 'setupFailed'; readonly message: string };
