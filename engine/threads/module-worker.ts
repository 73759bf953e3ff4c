// Worker threads that run one of the engine's TypeScript modules. On Node 20 a worker's
// `execArgv: ['--import', 'tsx']` does not reach its entry module (ERR_UNKNOWN_FILE_EXTENSION for
// .ts), so a two-line bootstrap registers tsx's loader in the worker first. tsx is resolved here,
// from this package, not from the worker's working directory.
import { Worker, type WorkerOptions } from 'node:worker_threads';

const TSX_API = import.meta.resolve('tsx/esm/api');

/** A worker running the module at `entry` (a file URL, e.g. new URL('./x.ts', import.meta.url).href). */
export function startModuleWorker(entry: string, options: Omit<WorkerOptions, 'eval'> = {}): Worker {
  const bootstrap = `import(${JSON.stringify(TSX_API)}).then(({ register }) => { register(); return import(${JSON.stringify(entry)}); });`;
  return new Worker(bootstrap, { ...options, eval: true });
}
