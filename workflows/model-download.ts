// modelDownload: a registered model's files for whoever may read them (the release rules of
// activities/models/download.ts), as short-lived presigned GET URLs with each file's digest. The
// activity checks the caller's signature itself; the client fetches the URLs and checks the digests.
import { proxyActivities } from '@temporalio/workflow';
import type { LightActivities } from '../activities/index.ts';
import { NON_RETRYABLE } from '../contracts/failures.ts';
import { modelDownloadSchema, type ModelDownloadResult } from '../contracts/models.ts';
import { parseInput } from '../contracts/validation.ts';

const { presignModelDownload } = proxyActivities<Pick<LightActivities, 'presignModelDownload'>>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumInterval: '10 seconds', maximumAttempts: 10, nonRetryableErrorTypes: [...NON_RETRYABLE.sample] },
});

export async function modelDownload(input: unknown): Promise<ModelDownloadResult> {
  const spec = parseInput('modelDownload', modelDownloadSchema, input);
  return presignModelDownload(spec);
}
