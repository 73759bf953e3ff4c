// `veil infra up|down|status`: the embedded Temporal and S3 servers as one unit.
import { config, localPaths, type VeilConfig } from '../config.ts';
import { ensureBucket, s3Client } from '../storage/client.ts';
import { runningPid } from './daemon.ts';
import { MINIO, minioHealthy, startMinio, stopMinio } from './minio.ts';
import { CODEC_SERVER, codecServerHealthy, codecServerUrl, ensureCodecKeys, startCodecServer, stopCodecServer } from './codec-server.ts';
import { TEMPORAL, startTemporal, stopTemporal, temporalHealthy, temporalUiAddress } from './temporal.ts';

export interface InfraStatus {
  /** `namespace` lists the jobs; `readsNamespace` the read-only requests (docs/temporal-ui.md). */
  temporal: { address: string; namespace: string; readsNamespace: string; ui: string; healthy: boolean; pid?: number };
  s3: { endpoint: string; bucket: string; healthy: boolean; pid?: number };
  codec: { url: string; healthy: boolean; pid?: number };
}

export async function infraStatus(cfg: VeilConfig = config()): Promise<InfraStatus> {
  const paths = localPaths(cfg);
  const [t, m, c] = await Promise.all([temporalHealthy(cfg), minioHealthy(cfg), codecServerHealthy(cfg)]);
  return {
    temporal: { address: cfg.TEMPORAL_ADDRESS, namespace: cfg.TEMPORAL_NAMESPACE, readsNamespace: cfg.VEIL_READS_NAMESPACE, ui: temporalUiAddress(cfg), healthy: t, pid: runningPid(paths, TEMPORAL) },
    s3: { endpoint: cfg.VEIL_S3_ENDPOINT, bucket: cfg.VEIL_S3_BUCKET, healthy: m, pid: runningPid(paths, MINIO) },
    codec: { url: codecServerUrl(cfg), healthy: c, pid: runningPid(paths, CODEC_SERVER) },
  };
}

/** Starts whatever is not already up (servers already serving are reused) and waits until healthy. */
export async function infraUp(cfg: VeilConfig = config()) {
  const keys = ensureCodecKeys(cfg);
  const [temporal, s3] = await Promise.all([startTemporal(cfg), startMinio(cfg)]);
  await ensureBucket(s3Client(cfg), cfg);
  // The codec server reads the registry (S3) and start events (Temporal): it starts last.
  const codec = await startCodecServer(cfg);
  return { temporal, s3, codec, keys, status: await infraStatus(cfg) };
}

export async function infraDown(cfg: VeilConfig = config()) {
  const codec = await stopCodecServer(cfg);
  const [temporal, s3] = await Promise.all([stopTemporal(cfg), stopMinio(cfg)]);
  return { temporal: temporal ? 'stopped' : 'not running', s3: s3 ? 'stopped' : 'not running', codec: codec ? 'stopped' : 'not running' };
}

export { startCodecServer, stopCodecServer, codecServerHealthy, startMinio, stopMinio, startTemporal, stopTemporal, minioHealthy, temporalHealthy };
