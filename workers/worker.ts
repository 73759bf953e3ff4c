// A Veil worker process: polls the `veil` queue (workflows and light activities) and/or the
// `veil-gpu` queue (training, sampling, audit). The workflow bundle is built once at start and
// shared by both workers. In production, GPU machines run `veil worker --queues veil-gpu`. Each
// queue is polled in two namespaces: the jobs' (every workflow) and the reads' (read-only requests
// only, workers/read-workflows.ts), so that the UI's list of jobs is not cluttered by reads.
import { DefaultLogger, NativeConnection, Runtime, Worker, bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { DataConverter } from '@temporalio/common';
import { fileURLToPath } from 'node:url';
import { GPU_TASK_QUEUE, TASK_QUEUE, config, taskQueueNames, type VeilConfig } from '../infra/config.ts';
import { gpuActivities, lightActivities } from '../activities/index.ts';
import { failureConverterPath, localDataConverter } from '../infra/codec/data-converter.ts';
import { QuietRefusalsLogger } from './quiet-refusals.ts';

const workflowsPath = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));
const readWorkflowsPath = fileURLToPath(new URL('./read-workflows.ts', import.meta.url));
/** Logs a workflow's routine refusal as one line (quiet-refusals.ts). */
const workflowInterceptorModules = [fileURLToPath(new URL('./refusal-interceptor.ts', import.meta.url))];

export type QueueName = typeof TASK_QUEUE | typeof GPU_TASK_QUEUE;

export function parseQueues(list: string): QueueName[] {
  const queues = [...new Set(list.split(',').map((q) => q.trim()).filter(Boolean))];
  for (const q of queues) if (q !== TASK_QUEUE && q !== GPU_TASK_QUEUE) throw new Error(`unknown task queue "${q}" (expected ${TASK_QUEUE} or ${GPU_TASK_QUEUE})`);
  if (queues.length === 0) throw new Error('no task queue given');
  return queues as QueueName[];
}

/** How often at most an activity's heartbeat reaches the server. */
export const HEARTBEAT_THROTTLE = '2s';

const silent = { log() {}, info() {}, warn() {}, error() {}, debug() {}, trace() {} } as never;
let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;
let readBundle: Promise<WorkflowBundleWithSourceMap> | undefined;
/**
 * The workflow bundle, built once per process. Its failure converter moves messages and stack
 * traces into payloads, so that the codec encrypts them too.
 */
export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= bundleWorkflowCode({ workflowsPath, workflowInterceptorModules, failureConverterPath, logger: silent });
  return bundle;
}

/** The reads namespace's bundle: the read-only request workflows and nothing else. */
export function readWorkflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  readBundle ??= bundleWorkflowCode({ workflowsPath: readWorkflowsPath, workflowInterceptorModules, failureConverterPath, logger: silent });
  return readBundle;
}

/**
 * Logs routine refusals as one line (quiet-refusals.ts). The Runtime takes one logger per process,
 * before its first worker; a process that installed its own (tests) keeps it.
 */
export function installWorkerLogger(): void {
  try {
    Runtime.install({ logger: new QuietRefusalsLogger(new DefaultLogger('INFO')) });
  } catch {
    // Already installed.
  }
}

export interface VeilWorkers {
  workers: Worker[];
  /** Runs every worker until shutdown() is called (or a signal arrives in the CLI). */
  run(): Promise<void>;
  shutdown(): void;
}

/** Which namespace a worker polls: the jobs' (TEMPORAL_NAMESPACE) or the reads' (VEIL_READS_NAMESPACE). */
export type NamespaceRole = 'jobs' | 'reads';


/** A worker for one queue role in one namespace, on the queue name `taskQueue`. */
export async function createQueueWorker(connection: NativeConnection, role: QueueName, cfg: VeilConfig, dataConverter: DataConverter, options: { namespace?: NamespaceRole; taskQueue?: string } = {}): Promise<Worker> {
  const isGpu = role === GPU_TASK_QUEUE;
  const reads = options.namespace === 'reads';
  return Worker.create({
    connection,
    // Every payload (inputs, results, signals, updates, queries, heartbeats, memos, failures) is
    // sealed with a per-workflow key before it reaches the Temporal server.
    dataConverter,
    namespace: reads ? cfg.VEIL_READS_NAMESPACE : cfg.TEMPORAL_NAMESPACE,
    // The role names veil / veil-gpu map to the configured queue names (VEIL_TASK_QUEUE).
    taskQueue: options.taskQueue ?? (isGpu ? taskQueueNames(cfg).gpu : taskQueueNames(cfg).light),
    workflowBundle: await (reads ? readWorkflowBundle() : workflowBundle()),
    activities: isGpu ? gpuActivities() : lightActivities(),
    // Heavy activities hold a whole model in memory: one at a time per GPU worker process.
    maxConcurrentActivityTaskExecutions: isGpu ? 1 : 16,
    // Heartbeats carry progress to the CLI and bring cancellation back: send them every few
    // seconds instead of the default (80% of the heartbeat timeout).
    maxHeartbeatThrottleInterval: HEARTBEAT_THROTTLE,
  });
}

export async function createWorkers(queues: QueueName[], cfg: VeilConfig = config()): Promise<VeilWorkers> {
  const dataConverter = localDataConverter(); // a missing master key fails here, before connecting
  installWorkerLogger();
  const connection = await NativeConnection.connect({ address: cfg.TEMPORAL_ADDRESS });
  let workers: Worker[];
  try {
    workers = [];
    for (const q of queues) {
      for (const namespace of ['jobs', 'reads'] as const) workers.push(await createQueueWorker(connection, q, cfg, dataConverter, { namespace }));
    }
  } catch (err) {
    await connection.close();
    throw err;
  }
  return {
    workers,
    async run() {
      try {
        await Promise.all(workers.map((w) => w.run()));
      } finally {
        await connection.close();
      }
    },
    shutdown() {
      for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
    },
  };
}
