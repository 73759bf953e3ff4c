// What Veil needs registered on its Temporal server besides the jobs' namespace: the namespace of
// read-only requests, and the custom search attributes the web UI lists and filters jobs by. The
// dev server takes both as flags at start (`--namespace`, `--search-attribute`); a server already
// running (started by an older `veil infra up`) gets them through the operator API instead.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Connection } from '@temporalio/client';
import { localPaths, type VeilConfig } from '../config.ts';

const run = promisify(execFile);

/**
 * Veil's custom search attributes and their types. The analyst and dataset values are keyed
 * pseudonyms, never the names (docs/temporal-ui.md); workflows/fine-tune/search-attributes.ts
 * defines the same names for the workflow side.
 */
export const VEIL_SEARCH_ATTRIBUTES = {
  VeilStatus: 'Keyword',
  VeilEpsilon: 'Double',
  VeilAnalyst: 'Keyword',
  VeilDataset: 'Keyword',
} as const;

/** temporal.api.enums.v1.IndexedValueType: KEYWORD = 2, DOUBLE = 4. */
const INDEXED_TYPE = { Keyword: 2, Double: 4 } as const;

/** The dev server's flags for both. */
export function temporalSetupFlags(cfg: VeilConfig): string[] {
  return [
    '--namespace', cfg.TEMPORAL_NAMESPACE,
    '--namespace', cfg.VEIL_READS_NAMESPACE,
    ...Object.entries(VEIL_SEARCH_ATTRIBUTES).flatMap(([name, type]) => ['--search-attribute', `${name}=${type}`]),
  ];
}

/** Creates the namespace with the CLI (its --retention takes care of the protobuf duration); false if it exists. */
async function createNamespace(cfg: VeilConfig, namespace: string): Promise<boolean> {
  try {
    await run(localPaths(cfg).temporalBin, ['operator', 'namespace', 'create', '--namespace', namespace, '--retention', '7d', '--address', cfg.TEMPORAL_ADDRESS], { timeout: 30_000 });
    return true;
  } catch (err) {
    if (/already exists/i.test(String((err as { stderr?: string }).stderr ?? err))) return false;
    throw err;
  }
}

/** Registers whatever of the two is missing on a running server; harmless when all is there. */
export async function ensureTemporalSetup(cfg: VeilConfig): Promise<{ namespaces: string[]; searchAttributes: string[] }> {
  const connection = await Connection.connect({ address: cfg.TEMPORAL_ADDRESS });
  try {
    const created: string[] = [];
    for (const namespace of [cfg.TEMPORAL_NAMESPACE, cfg.VEIL_READS_NAMESPACE]) if (await createNamespace(cfg, namespace)) created.push(namespace);
    const added: string[] = [];
    for (const namespace of [cfg.TEMPORAL_NAMESPACE, cfg.VEIL_READS_NAMESPACE]) {
      const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
      const missing = Object.entries(VEIL_SEARCH_ATTRIBUTES).filter(([name]) => !(customAttributes && name in customAttributes));
      if (missing.length === 0) continue;
      await connection.operatorService.addSearchAttributes({ namespace, searchAttributes: Object.fromEntries(missing.map(([name, type]) => [name, INDEXED_TYPE[type]])) });
      added.push(...missing.map(([name]) => `${namespace}/${name}`));
    }
    return { namespaces: created, searchAttributes: added };
  } finally {
    await connection.close();
  }
}
