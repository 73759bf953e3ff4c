// `veil datasets add|list`: register datasets and see what is registered (never the rows).
import { Command, Option } from 'commander';
import { config } from '../../infra/config.ts';
import { temporalUiAddress } from '../../infra/servers/temporal.ts';
import { DATASET_FORMATS, type DatasetFormat, type DatasetSchema } from '../../contracts/datasets.ts';
import { VeilClient } from '../sdk/client.ts';
import { registerCanaryCommands } from './audit.ts';

function describeSchema(schema: DatasetSchema): string {
  return schema.columns.map((c) => `${c.name}: ${c.type}${c.nullable ? '?' : ''}`).join(', ');
}

function workflowUrl(workflowId: string): string {
  const cfg = config();
  return `${temporalUiAddress(cfg)}/namespaces/${encodeURIComponent(cfg.TEMPORAL_NAMESPACE)}/workflows/${encodeURIComponent(workflowId)}`;
}

const NO_WORKER_HINT_AFTER_MS = 5_000;

/** An ingest nobody picks up waits forever: say why, once, instead of hanging silently. */
async function warnIfNoWorker(client: VeilClient, workflowId: string): Promise<void> {
  try {
    const d = await client.temporal.workflow.getHandle(workflowId).describe();
    // Only the start events are in the history: no worker has run the workflow yet.
    if (d.status.name === 'RUNNING' && d.historyLength <= 2) {
      process.stderr.write(`veil: still waiting for a worker on task queue "${client.taskQueue}": is \`veil worker\` running?\n`);
    }
  } catch {
    // The hint is best effort.
  }
}

async function withClient<T>(fn: (client: VeilClient) => Promise<T>): Promise<T> {
  const client = await VeilClient.connect();
  try {
    return await fn(client);
  } finally {
    await client.close();
  }
}

export function registerDatasetsCommands(program: Command): void {
  const datasets = program.command('datasets').description('Register datasets (CSV, JSON Lines) and list them');
  registerCanaryCommands(datasets);

  datasets
    .command('add')
    .summary('ingest FILE (CSV or JSON Lines) as dataset NAME; an existing NAME gets version k+1')
    .description(
      'Upload FILE and ingest it as dataset NAME, through the ingestDataset workflow (needs a running `veil worker`). ' +
        'If NAME exists, the file becomes its next version (k+1); earlier versions are kept unchanged. ' +
        'The file is validated first (UTF-8, well-formed rows, the same columns on every row); a rejected file leaves nothing behind.',
    )
    .argument('<name>', 'dataset name: 1-63 lowercase letters, digits, "_" or "-", starting with a letter or digit')
    .argument('<file>', 'a local .csv (with a header line) or .jsonl file (one JSON object per line)')
    .addOption(new Option('--format <format>', 'file format (default: from the file extension)').choices([...DATASET_FORMATS]))
    .option('--json', 'print the result as JSON')
    .action(async (name: string, file: string, opts: { format?: DatasetFormat; json?: boolean }) => {
      await withClient(async (client) => {
        let hint: NodeJS.Timeout | undefined;
        const r = await client
          .addDataset(name, file, {
            format: opts.format,
            onStarted: (id) => {
              if (!opts.json) console.log(`uploaded ${file}; ingesting in workflow ${id}\n  ${workflowUrl(id)}`);
              hint = setTimeout(() => void warnIfNoWorker(client, id), NO_WORKER_HINT_AFTER_MS);
            },
          })
          .finally(() => clearTimeout(hint));
        if (opts.json) {
          console.log(JSON.stringify(r));
          return;
        }
        console.log(`dataset ${r.name} version ${r.version}: ${r.rows} rows, ${r.schema.columns.length} columns (${describeSchema(r.schema)})`);
      });
    });

  datasets
    .command('list')
    .summary('list the datasets: latest version, row count and schema of each')
    .description('List the datasets: latest version, row count and schema of each')
    .option('--json', 'print as JSON')
    .action(async (opts: { json?: boolean }) => {
      const list = await withClient((client) => client.listDatasets());
      if (opts.json) {
        console.log(JSON.stringify(list));
        return;
      }
      if (list.length === 0) {
        console.log('no datasets yet (add one with `veil datasets add NAME FILE`)');
        return;
      }
      const width = Math.max(...list.map((d) => d.name.length), 4);
      console.log(`${'NAME'.padEnd(width)}  VERSION  ROWS        COLUMNS`);
      for (const d of list) {
        console.log(`${d.name.padEnd(width)}  ${`v${d.version}`.padEnd(7)}  ${String(d.rows).padEnd(10)}  ${describeSchema(d.schema)}`);
      }
    });
}
