// The embedded Temporal dev server (frontend + UI), history persisted in a SQLite file so that
// workflows survive a server restart.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { promisify } from 'node:util';
import { localPaths, type VeilConfig } from '../config.ts';
import { logFile, runningPid, startDaemon, stopDaemon, waitUntil } from './daemon.ts';
import { ensureTemporalSetup, temporalSetupFlags } from './temporal-setup.ts';

const run = promisify(execFile);
export const TEMPORAL = 'temporal';

function hostAndPort(address: string): { host: string; port: string } {
  const i = address.lastIndexOf(':');
  return { host: address.slice(0, i), port: address.slice(i + 1) };
}

export async function temporalHealthy(cfg: VeilConfig): Promise<boolean> {
  const { temporalBin } = localPaths(cfg);
  if (!existsSync(temporalBin)) return false;
  try {
    const { stdout } = await run(temporalBin, ['operator', 'cluster', 'health', '--address', cfg.TEMPORAL_ADDRESS], { timeout: 5_000 });
    return stdout.includes('SERVING');
  } catch {
    return false;
  }
}

export function temporalUiAddress(cfg: VeilConfig): string {
  return `http://${hostAndPort(cfg.TEMPORAL_ADDRESS).host}:${cfg.TEMPORAL_UI_PORT}`;
}

export async function startTemporal(cfg: VeilConfig): Promise<'started' | 'already running'> {
  if (await temporalHealthy(cfg)) {
    // A server started before Veil needed them gets the reads namespace and search attributes now.
    await ensureTemporalSetup(cfg);
    return 'already running';
  }
  const paths = localPaths(cfg);
  if (!existsSync(paths.temporalBin)) throw new Error(`Temporal CLI missing at ${paths.temporalBin}: run infra/scripts/install.sh`);
  mkdirSync(dirname(paths.temporalDb), { recursive: true });
  const { host, port } = hostAndPort(cfg.TEMPORAL_ADDRESS);
  if (runningPid(paths, TEMPORAL) === undefined) {
    startDaemon(paths, TEMPORAL, paths.temporalBin, [
      'server', 'start-dev',
      '--ip', host,
      '--port', port,
      '--ui-port', String(cfg.TEMPORAL_UI_PORT),
      '--db-filename', paths.temporalDb,
      // The jobs' namespace, the reads namespace and the custom search attributes (temporal-setup.ts).
      ...temporalSetupFlags(cfg),
      '--log-level', 'warn',
      // The UI asks Veil's codec server to open payloads (for a signed-in principal: see infra/codec/README.md).
      '--ui-codec-endpoint', `http://127.0.0.1:${cfg.VEIL_CODEC_PORT}`,
    ]);
  }
  await waitUntil('Temporal server', () => temporalHealthy(cfg), 60_000, logFile(paths, TEMPORAL));
  await ensureTemporalSetup(cfg);
  return 'started';
}

export function stopTemporal(cfg: VeilConfig): Promise<boolean> {
  return stopDaemon(localPaths(cfg), TEMPORAL);
}
