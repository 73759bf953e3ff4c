// `veil demo`: the end-to-end demonstration on the embedded servers (workers run in-process).
import { Command, InvalidArgumentError } from 'commander';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { createWorkers } from '../../workers/worker.ts';
import { VeilClient } from '../sdk/client.ts';
import { DEMO_ANALYST, DEMO_OWNER, DEMO_PRIVILEGED, runDemo } from '../demo/run-demo.ts';
import { ensurePrincipal } from '../../infra/access/index.ts';
import { ArtifactStore } from '../../infra/storage/index.ts';
import { config, taskQueueNames } from '../../infra/config.ts';
import { addOwnerCanaries } from '../sdk/audit.ts';
import { localDataConverter } from '../../infra/codec/data-converter.ts';
import { temporalClient } from '../../infra/temporal.ts';
import { auditPrefix } from '../../infra/storage/index.ts';
import type { AuditSummary } from '../../engine/audit/index.ts';

function positive(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a positive number');
  return n;
}

export function registerDemoCommands(program: Command): void {
  program
    .command('demo')
    .description('Fine-tune GPT-2 on generated patient notes with a planted secret, without and with DP; sample, audit and compare')
    .option('--target-epsilon <e>', 'ε of the DP model', positive, 8)
    .option('--base <model>', 'GPT-2 size to start from (tiny: 2 layers, width 64, the full GPT-2 vocabulary)', 'tiny')
    .option('--rows <n>', 'patient notes to generate', positive, 2000)
    .option('--secret-copies <n>', 'notes carrying the secret (one patient seen at several visits)', positive, 10)
    .option('--epochs <n>', 'epochs of the non-DP run (the DP run takes twice as many, in larger batches)', positive, 8)
    .action(async (opts: { targetEpsilon: number; base: string; rows: number; secretCopies: number; epochs: number }) => {
      const started = Date.now();
      const log = (line: string) => console.log(line);
      // The demo prints its own story; the in-process workers only speak up for warnings.
      Runtime.install({ logger: new DefaultLogger('WARN') });
      const workers = await createWorkers(['veil', 'veil-gpu']);
      const running = workers.run();
      // The demo plays the operator too: it creates its three principals (or reads their tokens
      // back, on a rerun). The researcher is privileged: allowed to train without DP.
      const store = await ArtifactStore.fromConfig();
      const temporal = await temporalClient(config(), { dataConverter: localDataConverter() });
      const as = async (id: string, role: 'owner' | 'analyst', privileged = false) =>
        VeilClient.connect({ temporal, token: await ensurePrincipal(store, { id, role, privileged }) });
      const ownerAudit = async (modelId: string) => ((await store.tryReadManifest(auditPrefix(modelId)))?.meta.summary as AuditSummary | undefined) ?? null;
      const ownerToken = await ensurePrincipal(store, { id: DEMO_OWNER, role: 'owner' });
      // The owner registers the planted secret as a canary of the dataset: the audit reads it from S3.
      const addCanaries = (dataset: string, file: string) => addOwnerCanaries(temporal, taskQueueNames().light, ownerToken, dataset, file);
      const clients = {
        owner: await as(DEMO_OWNER, 'owner'),
        analyst: await as(DEMO_ANALYST, 'analyst'),
        researcher: await as(DEMO_PRIVILEGED, 'analyst', true),
        ownerAudit,
        addOwnerCanaries: addCanaries,
      };
      try {
        const { leakWithoutDp, leakWithDp } = await runDemo(clients, { ...opts, log });
        log('');
        log(`without DP the secret came back in ${leakWithoutDp} of 5 completions; with DP in ${leakWithDp}. Demo took ${((Date.now() - started) / 60000).toFixed(1)} min.`);
      } finally {
        await temporal.connection.close();
        workers.shutdown();
        await running;
      }
    });
}
