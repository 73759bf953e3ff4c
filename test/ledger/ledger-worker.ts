// An in-process worker that runs only the ledger workflow, on a task queue of its own, against the
// Temporal server started by `veil infra up` (never a downloaded test server). Bundling just the
// ledger module keeps these tests independent of other workflows being written concurrently; the
// worker also runs the two access activities the ledger calls.
import { DefaultLogger, NativeConnection, Runtime, Worker, bundleWorkflowCode } from '@temporalio/worker';
import type { Client } from '@temporalio/client';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { config } from '../../infra/config.ts';
import { temporalClient } from '../../infra/temporal.ts';
import { authorize, verifyServiceRequest } from '../../activities/access/authorize.ts';

const ledgerWorkflowPath = fileURLToPath(new URL('../../workflows/ledger/workflow.ts', import.meta.url));
const silent = { log() {}, info() {}, warn() {}, error() {}, debug() {}, trace() {} };

export interface LedgerTestWorker {
  client: Client;
  taskQueue: string;
  stop(): Promise<void>;
}

export async function startLedgerWorker(): Promise<LedgerTestWorker> {
  // Worker state changes are logged at INFO and refused writes log a failed activity at WARN: keep
  // test output to errors (installed once per process).
  try {
    Runtime.install({ logger: new DefaultLogger('ERROR') });
  } catch {
    // Already installed by an earlier caller in this process.
  }
  const taskQueue = `test-ledger-${randomUUID()}`;
  const cfg = config();
  const connection = await NativeConnection.connect({ address: cfg.TEMPORAL_ADDRESS });
  const worker = await Worker.create({
    connection,
    namespace: cfg.TEMPORAL_NAMESPACE,
    taskQueue,
    workflowBundle: await bundleWorkflowCode({ workflowsPath: ledgerWorkflowPath, logger: silent as never }),
    // The ledger has every write's signature checked by these before it applies.
    activities: { authorize, verifyServiceRequest },
  });
  const running = worker.run();
  const client = await temporalClient(cfg);
  return {
    client,
    taskQueue,
    async stop() {
      worker.shutdown();
      await running;
      await connection.close();
      await client.connection.close();
    },
  };
}
