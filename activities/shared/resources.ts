// Process-wide connections the activities share: one S3 store and one Temporal client per worker
// process, created on first use; a failed connection is retried by the next attempt.
import type { Client } from '@temporalio/client';
import { ArtifactStore } from '../../infra/storage/index.ts';
import { config } from '../../infra/config.ts';
import { localDataConverter } from '../../infra/codec/data-converter.ts';
import { temporalClient } from '../../infra/temporal.ts';

function lazily<T>(create: () => Promise<T>): () => Promise<T> {
  let value: Promise<T> | undefined;
  return () => {
    value ??= create().catch((err: unknown) => {
      value = undefined;
      throw err;
    });
    return value;
  };
}

export const sharedStore: () => Promise<ArtifactStore> = lazily(() => ArtifactStore.fromConfig());
/** Workers hold the codec's keys: what they read through this client is decrypted locally. */
export const sharedTemporalClient: () => Promise<Client> = lazily(() => temporalClient(config(), { dataConverter: localDataConverter() }));
