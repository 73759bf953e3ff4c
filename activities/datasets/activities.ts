// The dataset activities, as the `veil` worker registers them. They add what Temporal needs to
// the plain functions: heartbeats with progress, cancellation, and failures typed so the
// workflow's retry policy retries a lost S3 connection but not a bad file.
import { ApplicationFailure, Context } from '@temporalio/activity';
import { IntegrityError, type ArtifactStore } from '../../infra/storage/index.ts';
import { sharedStore } from '../shared/resources.ts';
import { ingestDataset, type IngestProgress } from './ingest.ts';
import type { IngestDatasetInput, IngestDatasetResult } from '../../contracts/datasets.ts';
import { Failure } from '../../contracts/failures.ts';
import { DatasetValidationError } from './validation-error.ts';
import { discardUncommitted } from './versions.ts';

const HEARTBEAT_EVERY_MS = 1_000;

function permanentFailure(err: unknown): unknown {
  if (err instanceof DatasetValidationError) return ApplicationFailure.nonRetryable(err.message, Failure.DatasetValidationError);
  if (err instanceof IntegrityError) {
    return ApplicationFailure.nonRetryable(`the uploaded file was damaged between the client and the server (${err.message}); upload it again`, Failure.UploadIntegrityError);
  }
  return err;
}

/** The ingest's identity across attempts: its workflow id (these activities only run in a workflow). */
function ingestIdOf(ctx: Context): string {
  const id = ctx.info.workflowExecution?.workflowId;
  if (!id) throw ApplicationFailure.nonRetryable('dataset activities must run inside the ingestDataset workflow', 'NoWorkflow');
  return id;
}

/** The dataset activities over a store (the configured S3 by default, created once). */
export function datasetActivities(getStore: () => Promise<ArtifactStore> = sharedStore) {
  return {
    /** Validates a staged upload and commits it as the next version of the dataset. */
    async validateAndStoreDataset(input: IngestDatasetInput): Promise<IngestDatasetResult> {
      const ctx = Context.current();
      let lastBeat = 0;
      const onProgress = (p: IngestProgress): void => {
        const now = Date.now();
        if (now - lastBeat < HEARTBEAT_EVERY_MS) return;
        lastBeat = now;
        ctx.heartbeat(p);
      };
      ctx.heartbeat({ phase: 'validating', rows: 0 });
      try {
        return await ingestDataset(await getStore(), input, {
          ingestId: ingestIdOf(ctx),
          resume: ctx.info.attempt > 1,
          onProgress,
          signal: ctx.cancellationSignal,
        });
      } catch (err) {
        throw permanentFailure(err);
      }
    },

    /** Removes what a failed ingest left in its unfinished version slot (never a committed version). */
    async discardDatasetIngest(input: { name: string }): Promise<{ discarded: number }> {
      const ingestId = ingestIdOf(Context.current());
      return { discarded: await discardUncommitted(await getStore(), input.name, ingestId) };
    },

    /** Deletes the raw file staged for an ingest: raw rows do not linger in S3 once ingested. */
    async deleteStagedUpload(input: { key: string }): Promise<void> {
      // Only staging objects: whatever a workflow input says, nothing else is deleted here.
      if (!/^uploads\/[A-Za-z0-9-]{8,64}$/.test(input.key)) throw ApplicationFailure.nonRetryable(`not a staged upload: ${input.key}`, 'InvalidInput');
      const store = await getStore();
      await store.delete(input.key);
    },
  };
}

