// The codec server beside the embedded Temporal and MinIO: a `veil codec-server` process that
// outlives the `veil infra up` that started it (pid and log under VEIL_HOME like the others).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { localPaths, projectRoot, type VeilConfig } from '../config.ts';
import { ensureKeyFile, keyFilePath, MASTER_KEY_ENV } from '../codec/key-ring.ts';
import { logFile, runningPid, startDaemon, stopDaemon, waitUntil } from './daemon.ts';

export const CODEC_SERVER = 'codec-server';

export function codecServerUrl(cfg: VeilConfig): string {
  return `http://127.0.0.1:${cfg.VEIL_CODEC_PORT}`;
}

export async function codecServerHealthy(cfg: VeilConfig): Promise<boolean> {
  try {
    return (await fetch(`${codecServerUrl(cfg)}/health`, { signal: AbortSignal.timeout(2_000) })).ok;
  } catch {
    return false;
  }
}

/** Creates the master key file for the embedded setup (mode 0600) unless a key is configured. */
export function ensureCodecKeys(cfg: VeilConfig): 'from environment' | 'created' | 'kept' {
  if (process.env[MASTER_KEY_ENV]) return 'from environment';
  return ensureKeyFile(keyFilePath(cfg)) ? 'created' : 'kept';
}

export async function startCodecServer(cfg: VeilConfig): Promise<'started' | 'already running'> {
  if (await codecServerHealthy(cfg)) return 'already running';
  const paths = localPaths(cfg);
  const veil = join(projectRoot, 'bin', 'veil.js');
  if (!existsSync(veil)) throw new Error(`missing ${veil}`);
  if (runningPid(paths, CODEC_SERVER) === undefined) startDaemon(paths, CODEC_SERVER, process.execPath, [veil, 'codec-server', '--port', String(cfg.VEIL_CODEC_PORT)]);
  await waitUntil('codec server', () => codecServerHealthy(cfg), 60_000, logFile(paths, CODEC_SERVER));
  return 'started';
}

export function stopCodecServer(cfg: VeilConfig): Promise<boolean> {
  return stopDaemon(localPaths(cfg), CODEC_SERVER);
}
