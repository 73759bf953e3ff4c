// stageUpload: a data owner asks where to send a file; the answer is a presigned PUT URL for a
// fresh uploads/<uuid> key (one hour). The ingest workflow deletes the staged object once it has
// read it; a child timer deletes it anyway after the URL has expired, so an upload whose ingest
// never started does not leave raw rows behind.
import { ParentClosePolicy, proxyActivities, sleep, startChild } from '@temporalio/workflow';
import type { LightActivities } from '../activities/index.ts';
import { UPLOAD_URL_SECONDS, stageUploadInputSchema, type PresignedUpload } from '../contracts/datasets.ts';
import { NON_RETRYABLE } from '../contracts/failures.ts';
import { parseInput } from '../contracts/validation.ts';

/** Left for the client to start the ingest after its URL expires, before the staged file goes. */
const GRACE_AFTER_EXPIRY = '1 hour';

const { authorize, presignUpload, deleteStagedUpload } = proxyActivities<LightActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1s', maximumInterval: '30s', maximumAttempts: 25, nonRetryableErrorTypes: [...NON_RETRYABLE.stageUpload] },
});

export async function stageUpload(input: unknown): Promise<PresignedUpload> {
  parseInput('stageUpload', stageUploadInputSchema, input);
  // Upload rights are ingest rights: only the dataset's owner (a new name becomes theirs).
  await authorize({ action: 'upload', request: input });
  const upload = await presignUpload();
  await startChild(expireStagedUpload, {
    args: [{ key: upload.key }],
    workflowId: `expire-${upload.key.replace('/', '-')}`,
    parentClosePolicy: ParentClosePolicy.ABANDON,
  });
  return upload;
}

/**
 * Deletes a staged upload after its URL has expired (a no-op when the ingest already deleted it).
 * `afterSeconds` overrides the wait (tests); by default the URL's lifetime plus an hour.
 */
export async function expireStagedUpload(input: { key: string; afterSeconds?: number }): Promise<void> {
  if (input.afterSeconds !== undefined) {
    await sleep(input.afterSeconds * 1000);
  } else {
    await sleep(UPLOAD_URL_SECONDS * 1000);
    await sleep(GRACE_AFTER_EXPIRY);
  }
  await deleteStagedUpload({ key: input.key });
}
