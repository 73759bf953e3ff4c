// The roles around the notebook, played in one process as `veil demo` does: the operator creates
// (or, on a rerun, reads back) the principals and runs Veil's workers in-process; the data owner
// registers the `phee` dataset (examples/phee.ts) once and grants the analyst a budget. This needs
// the operator's S3 credentials and codec keys (the embedded servers' defaults, see `veil infra
// config`); an analyst of a running Veil needs none of it, only a token (VEIL_TOKEN).
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { VeilClient } from 'veil';
import { createWorkers } from '../workers/worker.ts';
import { ensurePrincipal } from '../infra/access/index.ts';
import { ArtifactStore } from '../infra/storage/index.ts';
import { config, localPaths } from '../infra/config.ts';
import { localDataConverter } from '../infra/codec/data-converter.ts';
import { temporalClient } from '../infra/temporal.ts';
import { writePheeDataset } from './phee.ts';

export const NOTEBOOK_OWNER = 'phee-owner';
export const NOTEBOOK_ANALYST = 'phee-analyst';
export const NOTEBOOK_RESEARCHER = 'phee-researcher';

/**
 * The data owner's part: register the dataset unless it is there, and leave the analyst `epsilon`
 * and `delta` more to spend. A grant's total δ must stay below 1/N (1/2,898 here), so each run
 * asks for a small δ (the notebook's DP fit uses 1e-5) rather than the default 1/N^1.1.
 */
export async function registerAndGrant(owner: VeilClient, o: { dataset: string; analyst: string; epsilon: number; delta: number; log: (line: string) => void }): Promise<void> {
  const existing = (await owner.listDatasets()).find((d) => d.name === o.dataset);
  if (!existing) {
    const dir = join(localPaths().home, 'examples');
    await mkdir(dir, { recursive: true });
    const file = join(dir, 'phee.jsonl');
    await writePheeDataset(file);
    const added = await owner.addDataset(o.dataset, file);
    o.log(`data owner: registered ${o.dataset} v${added.version} (${added.rows} rows)`);
  }
  // A grant sets the total: raise it so that this run has `epsilon` on top of what earlier runs spent.
  const before = await owner.budget({ dataset: o.dataset, analyst: o.analyst });
  const used = { epsilon: before.committed.epsilon + before.reserved.epsilon, delta: before.committed.delta + before.reserved.delta };
  await owner.grantBudget({ dataset: o.dataset, analyst: o.analyst, epsilon: used.epsilon + o.epsilon, delta: used.delta + o.delta });
  o.log(`data owner: ${o.analyst} may spend ε=${o.epsilon.toFixed(2)}, δ=${o.delta} more on ${o.dataset}`);
}

/** Runs `fn` with the analyst's and the privileged researcher's clients, workers running in-process. */
export async function withNotebookPrincipals<T>(fn: (clients: { analyst: VeilClient; researcher: VeilClient }) => Promise<T>, o: { dataset: string; epsilon: number; delta: number }): Promise<T> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const workers = await createWorkers(['veil', 'veil-gpu']);
  const running = workers.run();
  const store = await ArtifactStore.fromConfig();
  const temporal = await temporalClient(config(), { dataConverter: localDataConverter() });
  const as = async (id: string, role: 'owner' | 'analyst', privileged = false) => VeilClient.connect({ temporal, token: await ensurePrincipal(store, { id, role, privileged }) });
  try {
    const owner = await as(NOTEBOOK_OWNER, 'owner');
    await registerAndGrant(owner, { ...o, analyst: NOTEBOOK_ANALYST, log: (line) => console.log(line) });
    return await fn({ analyst: await as(NOTEBOOK_ANALYST, 'analyst'), researcher: await as(NOTEBOOK_RESEARCHER, 'analyst', true) });
  } finally {
    await temporal.connection.close();
    workers.shutdown();
    await running;
  }
}
