// Temporal for tests: a TestWorkflowEnvironment connected to the server the test command started
// (never createLocal(), which downloads a server), and in-process Veil workers that run every
// Veil workflow and activity for the duration of a test.
//
//   await withWorker(async ({ client, taskQueue }) => {
//     const result = await client.workflow.execute(ingestDataset, { taskQueue, workflowId, args: [input] });
//   });
//
// By default the workers poll fresh task queues of their own (`veil-test-<id>` and
// `veil-test-<id>-gpu`), so a `veil worker` running on the same server never steals a test's tasks
// and tests never steal each other's. Workflows should therefore reach the GPU queue as
// `${workflowInfo().taskQueue}-gpu` (which is `veil-gpu` in production) rather than by a constant.
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import type { Client } from '@temporalio/client';
import { randomUUID } from 'node:crypto';
import { GPU_TASK_QUEUE, TASK_QUEUE, config } from '../../infra/config.ts';
import { HEARTBEAT_THROTTLE, workflowBundle } from '../../workers/worker.ts';
import { gpuActivities, lightActivities } from '../../activities/index.ts';
import { localDataConverter } from '../../infra/codec/data-converter.ts';
import { ensureKeyFile } from '../../infra/codec/key-ring.ts';
import type { DataConverter } from '@temporalio/common';

// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type -- activity maps are heterogeneous
type Activities = Record<string, Function>;

let runtimeInstalled = false;
/**
 * Keeps the worker's chatter out of test output: state changes (INFO) and the warning logged for
 * every failed activity attempt, which tests of failures provoke on purpose. Errors still show.
 */
function quietRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  try {
    Runtime.install({ logger: new DefaultLogger('ERROR') });
  } catch {
    // Another helper in this process installed it first: fine.
  }
}

let converter: DataConverter | undefined;
/**
 * The data converter of tests: they play the operator, who holds the codec's master keys (the key
 * file `veil infra up` creates under VEIL_HOME, or VEIL_CODEC_MASTER_KEY), so their client reads
 * what the in-process workers seal.
 */
export function testDataConverter(): DataConverter {
  if (!converter) {
    if (!process.env.VEIL_CODEC_MASTER_KEY) ensureKeyFile();
    converter = localDataConverter();
  }
  return converter;
}

/** A test environment on the configured server and namespace. Call teardown() when done. */
export async function connectTestEnvironment(): Promise<TestWorkflowEnvironment> {
  quietRuntime();
  const cfg = config();
  return TestWorkflowEnvironment.createFromExistingServer({ address: cfg.TEMPORAL_ADDRESS, namespace: cfg.TEMPORAL_NAMESPACE, client: { dataConverter: testDataConverter() } });
}

export interface WorkerContext {
  env: TestWorkflowEnvironment;
  /** A Temporal client on the test server (env.client). */
  client: Client;
  /** The queue running workflows and light activities: start workflows here. */
  taskQueue: string;
  /** The queue running GPU activities (`${taskQueue}-gpu`). */
  gpuTaskQueue: string;
}

export interface WithWorkerOptions {
  /** 'unique' (default): fresh task queues for this call. 'real': the production `veil` / `veil-gpu`. */
  queues?: 'unique' | 'real';
  /** Added to (or replacing) the light activities, e.g. fakes or instrumented versions. */
  activities?: Activities;
  /** Added to (or replacing) the GPU activities. */
  gpuActivities?: Activities;
  /** Also run a worker on the GPU queue (default true). */
  gpu?: boolean;
  /** Reuse an environment (otherwise one is connected and torn down around `fn`). */
  env?: TestWorkflowEnvironment;
}

/** Runs `fn` while in-process Veil workers serve its task queues; they are shut down afterwards. */
export async function withWorker<T>(fn: (ctx: WorkerContext) => Promise<T>, options: WithWorkerOptions = {}): Promise<T> {
  const env = options.env ?? (await connectTestEnvironment());
  const taskQueue = options.queues === 'real' ? TASK_QUEUE : `veil-test-${randomUUID()}`;
  const gpuTaskQueue = options.queues === 'real' ? GPU_TASK_QUEUE : `${taskQueue}-gpu`;
  const cfg = config();
  const common = { connection: env.nativeConnection, namespace: cfg.TEMPORAL_NAMESPACE, workflowBundle: await workflowBundle(), dataConverter: testDataConverter() };
  try {
    const light = await Worker.create({ ...common, taskQueue, activities: { ...lightActivities(), ...options.activities } });
    const ctx: WorkerContext = { env, client: env.client, taskQueue, gpuTaskQueue };
    const heavy = { ...gpuActivities(), ...options.gpuActivities };
    // No GPU activities exist yet in some checkouts: a worker with nothing to poll only warns.
    if (options.gpu === false || Object.keys(heavy).length === 0) return await light.runUntil(fn(ctx));
    const gpu = await Worker.create({ ...common, taskQueue: gpuTaskQueue, activities: heavy, maxConcurrentActivityTaskExecutions: 1, maxHeartbeatThrottleInterval: HEARTBEAT_THROTTLE });
    return await light.runUntil(gpu.runUntil(() => fn(ctx)));
  } finally {
    if (!options.env) await env.teardown();
  }
}
