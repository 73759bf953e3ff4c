// The embedded S3 server: MinIO built from source, data in a local folder. Veil's code speaks
// plain S3, so AWS S3, SeaweedFS or Ceph can replace it by pointing VEIL_S3_ENDPOINT elsewhere.
import { existsSync, mkdirSync } from 'node:fs';
import { localPaths, type VeilConfig } from '../config.ts';
import { logFile, runningPid, startDaemon, stopDaemon, waitUntil } from './daemon.ts';

export const MINIO = 'minio';

export async function minioHealthy(cfg: VeilConfig): Promise<boolean> {
  try {
    const res = await fetch(new URL('/minio/health/live', cfg.VEIL_S3_ENDPOINT), { signal: AbortSignal.timeout(2_000) });
    return res.ok;
  } catch {
    return false;
  }
}

export async function startMinio(cfg: VeilConfig): Promise<'started' | 'already running'> {
  if (await minioHealthy(cfg)) return 'already running';
  const paths = localPaths(cfg);
  if (!existsSync(paths.minioBin)) throw new Error(`MinIO missing at ${paths.minioBin}: run infra/scripts/install.sh`);
  mkdirSync(paths.minioData, { recursive: true });
  const endpoint = new URL(cfg.VEIL_S3_ENDPOINT);
  if (runningPid(paths, MINIO) === undefined) {
    startDaemon(
      paths,
      MINIO,
      paths.minioBin,
      ['server', paths.minioData, '--address', endpoint.host, '--console-address', `${endpoint.hostname}:${cfg.VEIL_S3_CONSOLE_PORT}`, '--quiet'],
      {
        ...process.env,
        MINIO_ROOT_USER: cfg.VEIL_S3_ACCESS_KEY,
        MINIO_ROOT_PASSWORD: cfg.VEIL_S3_SECRET_KEY,
        MINIO_UPDATE: 'off',
        MINIO_BROWSER: 'on',
      },
    );
  }
  await waitUntil('MinIO', () => minioHealthy(cfg), 60_000, logFile(paths, MINIO));
  return 'started';
}

export function stopMinio(cfg: VeilConfig): Promise<boolean> {
  return stopDaemon(localPaths(cfg), MINIO);
}
