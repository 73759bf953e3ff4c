// `veil codec-server`: the HTTP codec server the web UI, the CLI and the SDK call to open payloads
// (only the caller's own); `veil codec-session`: an expiring codec endpoint URL that signs the web
// UI in as the token's principal; `veil codec-rotate-key`: a new current master key (operators).
import { Command } from 'commander';
import { parseToken } from '../../infra/access/index.ts';
import { config } from '../../infra/config.ts';
import { issueSession } from '../../infra/codec/codec-request-auth.ts';
import { keyFilePath, rotateKeyFile } from '../../infra/codec/key-ring.ts';
import { startCodecServer } from '../../infra/codec/serve.ts';
import { requireToken } from './token.ts';

export function registerCodecServerCommands(program: Command): void {
  program
    .command('codec-server')
    .description('Serve Temporal\'s remote codec protocol (POST /encode, /decode): opens only the payloads of workflows the signed caller may read')
    .option('--port <port>', 'port on 127.0.0.1 (default: VEIL_CODEC_PORT)')
    .action(async (opts: { port?: string }) => {
      const running = await startCodecServer({ port: opts.port ? Number(opts.port) : undefined });
      console.log(`veil codec server on ${running.url}`);
      await new Promise<void>((resolve) => {
        for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => resolve());
      });
      await running.close();
    });

  program
    .command('codec-session')
    .description('Print a codec endpoint URL that signs the Temporal web UI in as you (paste it in the UI\'s codec server setting)')
    .option('--hours <h>', 'how long the session lasts', '8')
    .action((opts: { hours: string }) => {
      const { principal, secret } = parseToken(requireToken());
      const hours = Number(opts.hours);
      if (!(hours > 0 && hours <= 24 * 7)) throw Object.assign(new Error('--hours must be in (0, 168]'), { exitCode: 2 });
      const expiresAt = Date.now() + hours * 3_600_000;
      console.log(`${config().VEIL_CODEC_URL}/s/${encodeURIComponent(issueSession(principal, secret, expiresAt))}`);
    });

  program
    .command('codec-rotate-key')
    .description('Operators: add a fresh master key to the key file and make it current (older keys stay, to open older payloads); restart workers and the codec server')
    .action(() => {
      const id = rotateKeyFile(keyFilePath());
      console.log(`new current codec key: ${id} (restart \`veil worker\` and \`veil codec-server\` to use it)`);
    });
}
