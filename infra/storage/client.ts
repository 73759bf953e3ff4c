// The S3 client, built from the Veil configuration. Everything that touches S3 goes through it.
import { Client } from 'minio';
import { config, type VeilConfig } from '../config.ts';

export function s3Client(cfg: VeilConfig = config()): Client {
  const url = new URL(cfg.VEIL_S3_ENDPOINT);
  const useSSL = url.protocol === 'https:';
  return new Client({
    endPoint: url.hostname,
    port: url.port ? Number(url.port) : useSSL ? 443 : 80,
    useSSL,
    accessKey: cfg.VEIL_S3_ACCESS_KEY,
    secretKey: cfg.VEIL_S3_SECRET_KEY,
    region: cfg.VEIL_S3_REGION,
    pathStyle: true,
  });
}

/** Creates Veil's bucket if it does not exist yet (safe to call concurrently and repeatedly). */
export async function ensureBucket(client: Client = s3Client(), cfg: VeilConfig = config()): Promise<void> {
  if (await client.bucketExists(cfg.VEIL_S3_BUCKET)) return;
  try {
    await client.makeBucket(cfg.VEIL_S3_BUCKET, cfg.VEIL_S3_REGION);
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code !== 'BucketAlreadyOwnedByYou' && code !== 'BucketAlreadyExists') throw err;
  }
}
