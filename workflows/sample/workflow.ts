// sample: authorize the analyst's signed request → check the release policy (model ε within what the analyst accepts, non-DP models for
// privileged analysts only) → generate on the GPU queue → store in S3 → return the samples.
import { patched, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { GpuActivities, LightActivities } from '../../activities/index.ts';
import { idFromWorkflowId } from '../../contracts/ids.ts';
import { NON_RETRYABLE } from '../../contracts/failures.ts';
import { sampleSchema, type SampleResult } from '../../contracts/sample.ts';
import { parseInput } from '../../contracts/validation.ts';
import { AUTHORIZE_PATCH } from '../patches.ts';
const light = proxyActivities<LightActivities>({
  startToCloseTimeout: '5 minutes',
  retry: { maximumInterval: '30s', maximumAttempts: 20, nonRetryableErrorTypes: [...NON_RETRYABLE.sample] },
});

export async function sample(input: unknown): Promise<SampleResult> {
  const spec = parseInput('sample', sampleSchema, input);
  const gpu = proxyActivities<GpuActivities>({
    taskQueue: `${workflowInfo().taskQueue}-gpu`,
    startToCloseTimeout: '1 hour',
    heartbeatTimeout: '5 minutes',
    retry: { maximumInterval: '30s', maximumAttempts: 20, nonRetryableErrorTypes: [...NON_RETRYABLE.sample] },
  });
  const principal = patched(AUTHORIZE_PATCH) ? await light.authorize({ action: 'sample', request: input }) : { privileged: false };
  const privacy = await light.checkRelease({ analyst: spec.analyst, privileged: principal.privileged, modelId: spec.modelId, maxEpsilon: spec.maxEpsilon });
  const sampleId = idFromWorkflowId(workflowInfo().workflowId);
  const prompts = [...spec.prompts, ...Array.from({ length: spec.unconditional }, () => '')];
  const { key, samples } = await gpu.generateSamples({
    sampleId,
    modelId: spec.modelId,
    prompts,
    temperature: spec.temperature,
    topK: spec.topK,
    topP: spec.topP,
    maxNewTokens: spec.maxNewTokens,
    seed: spec.seed,
  });
  return { sampleId, modelId: spec.modelId, epsilon: privacy.epsilon, delta: privacy.delta, samples, key };
}
