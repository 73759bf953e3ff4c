// Staging an upload without S3 credentials on the client: the worker hands the data owner a
// presigned PUT URL for a fresh uploads/<uuid> key, good for one hour. The ingest workflow then
// checks the staged bytes against the digest the client computed while sending them.
import { randomUUID } from 'node:crypto';
import { uploadKey } from '../../infra/storage/index.ts';
import { sharedStore } from '../shared/resources.ts';
import { UPLOAD_URL_SECONDS, type PresignedUpload } from '../../contracts/datasets.ts';

export async function presignUpload(): Promise<PresignedUpload> {
  const store = await sharedStore();
  const key = uploadKey(randomUUID());
  const url = await store.client.presignedPutObject(store.bucket, key, UPLOAD_URL_SECONDS);
  return { key, url, expiresAt: new Date(Date.now() + UPLOAD_URL_SECONDS * 1000).toISOString() };
}
