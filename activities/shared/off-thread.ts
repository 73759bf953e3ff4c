// CPU-heavy steps of light activities run here, in a worker thread with a hard deadline: the
// light worker's event loop keeps answering every other principal's catalog reads, authorizations
// and budget writes meanwhile, and a request that would compute for minutes is stopped (the
// thread is terminated, not asked to stop) and refused.
import { Worker } from 'node:worker_threads';

// tsx's loader is registered inside the worker first (Node 20 workers do not inherit --import).
const TSX_API = import.meta.resolve('tsx/esm/api');

export class OffThreadTimeout extends Error {
  override name = 'OffThreadTimeout';
}

/**
 * Calls `module`'s export `fn` with `arg` in a fresh worker thread and returns its result (a
 * structured-clone copy). Rejects with OffThreadTimeout after `timeoutMs`, having terminated it.
 */
export function runOffThread<A, R>(module: URL, fn: string, arg: A, timeoutMs: number): Promise<R> {
  const bootstrap = `
    const { parentPort, workerData } = require('node:worker_threads');
    import(${JSON.stringify(TSX_API)})
      .then(({ register }) => { register(); return import(workerData.module); })
      .then(async (m) => parentPort.postMessage({ ok: true, value: await m[workerData.fn](workerData.arg) }))
      .catch((e) => parentPort.postMessage({ ok: false, name: e && e.name, message: e && e.message ? e.message : String(e) }));`;
  const worker = new Worker(bootstrap, { eval: true, workerData: { module: module.href, fn, arg } });
  return new Promise<R>((resolve, reject) => {
    const timer = setTimeout(() => {
      void worker.terminate();
      reject(new OffThreadTimeout(`stopped after ${Math.round(timeoutMs / 1000)} s`));
    }, timeoutMs);
    worker.once('message', (m: { ok: true; value: R } | { ok: false; name?: string; message: string }) => {
      clearTimeout(timer);
      void worker.terminate();
      if (m.ok) resolve(m.value);
      else reject(Object.assign(new Error(m.message), { name: m.name ?? 'Error' }));
    });
    worker.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}
