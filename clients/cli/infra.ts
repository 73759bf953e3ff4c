// `veil infra …`: install, start, stop and inspect the embedded Temporal and S3 servers.
import { Command } from 'commander';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { configVariables, loadConfig, projectRoot } from '../../infra/config.ts';
import { infraDown, infraStatus, infraUp } from '../../infra/servers/index.ts';

export function registerInfraCommands(program: Command): void {
  const infra = program.command('infra').description('Install, start, stop and inspect the embedded Temporal and S3 (MinIO) servers');

  infra
    .command('install')
    .description('Install the pinned Temporal CLI and MinIO server into the project (idempotent)')
    .action(() => {
      const r = spawnSync('bash', [join(projectRoot, 'infra/scripts/install.sh')], { stdio: 'inherit' });
      if (r.status !== 0) throw Object.assign(new Error('install failed'), { exitCode: r.status ?? 1 });
    });

  infra
    .command('up')
    .description('Start Temporal (with its web UI) and MinIO on 127.0.0.1, reusing servers already up; waits until healthy')
    .option('--json', 'print the status as JSON')
    .action(async (opts: { json?: boolean }) => {
      const r = spawnSync('bash', [join(projectRoot, 'infra/scripts/install.sh')], { stdio: ['ignore', 'inherit', 'inherit'] });
      if (r.status !== 0) throw Object.assign(new Error('install failed'), { exitCode: r.status ?? 1 });
      const { temporal, s3, codec, status } = await infraUp();
      if (opts.json) {
        console.log(JSON.stringify({ temporal, s3, codec, status }));
        return;
      }
      console.log(`Temporal ${temporal}: ${status.temporal.address} (namespace ${status.temporal.namespace}, reads in ${status.temporal.readsNamespace})`);
      console.log(`S3 (MinIO) ${s3}: ${status.s3.endpoint}, bucket ${status.s3.bucket}`);
      console.log(`Codec server ${codec}: ${status.codec.url} (decrypts a job's payloads for whoever may read it)`);
      console.log(`Temporal UI: ${status.temporal.ui} (sign in to the codec server: veil codec-session)`);
    });

  infra
    .command('down')
    .description('Stop the servers started by `veil infra up` (data folders are kept)')
    .action(async () => {
      const r = await infraDown();
      console.log(`Temporal: ${r.temporal}; S3: ${r.s3}; codec server: ${r.codec}`);
    });

  infra
    .command('status')
    .description('Show whether the servers are healthy')
    .option('--json', 'print as JSON')
    .action(async (opts: { json?: boolean }) => {
      const s = await infraStatus();
      if (opts.json) console.log(JSON.stringify(s));
      else {
        console.log(`Temporal ${s.temporal.healthy ? 'healthy' : 'DOWN'}: ${s.temporal.address}  UI ${s.temporal.ui}`);
        console.log(`S3       ${s.s3.healthy ? 'healthy' : 'DOWN'}: ${s.s3.endpoint}  bucket ${s.s3.bucket}`);
      }
      if (!s.temporal.healthy || !s.s3.healthy) process.exitCode = 3;
    });

  infra
    .command('config')
    .description('List the configuration variables: the value in effect, whether it comes from the environment or the default, and what it does')
    .option('--json', 'print {NAME: {value, source}} as JSON')
    .action((opts: { json?: boolean }) => {
      const effective = configInEffect(process.env);
      if (opts.json) return console.log(JSON.stringify(Object.fromEntries(effective.map(({ name, value, source }) => [name, { value, source }]))));
      for (const v of effective) console.log(`${v.name.padEnd(22)} ${v.value}  (${v.source})\n${''.padEnd(22)} ${v.doc}`);
    });
}

/** Variables whose value is a credential: shown as set or not, never printed. */
const SECRET_VARIABLES: ReadonlySet<string> = new Set(['VEIL_S3_SECRET_KEY']);

/** Each variable's value in effect (secrets masked), where it comes from, and what it does. */
export function configInEffect(env: NodeJS.ProcessEnv): { name: string; value: string; source: 'environment' | 'default'; doc: string }[] {
  const cfg = loadConfig(env); // an invalid value fails here, naming every bad variable (exit code 2)
  return Object.entries(configVariables).map(([name, spec]) => {
    const source = env[name] === undefined || env[name] === '' ? ('default' as const) : ('environment' as const);
    const value = String(cfg[name as keyof typeof cfg]);
    return { name, value: SECRET_VARIABLES.has(name) ? (source === 'default' ? '(the default)' : '(set, hidden)') : value, source, doc: spec.doc };
  });
}
