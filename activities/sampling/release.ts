// Release policy for samples: a model's outputs are released only when its ε is within what the
// analyst accepts, and a non-DP model's only to privileged analysts. A model belongs to the
// analyst who trained it (others are privileged or get a refusal). Refusals are non-retryable and
// state the numbers.
import { ApplicationFailure } from '@temporalio/activity';
import { readModelPrivacy, releaseGuarantee, type ModelPrivacy } from '../models/registry.ts';
import { sharedStore } from '../shared/resources.ts';

export const RELEASE_REFUSED = 'ReleaseRefused';

/** `privileged` comes from the sample request's authorization (the analyst's principal record). */
export async function checkRelease(input: { analyst: string; privileged: boolean; modelId: string; maxEpsilon: number | 'unlimited' }): Promise<ModelPrivacy> {
  const privacy = await readModelPrivacy(await sharedStore(), input.modelId);
  if (!privacy) throw ApplicationFailure.nonRetryable(`no registered model ${input.modelId}`, 'ModelNotFound');
  const privileged = input.privileged;
  if (privacy.analyst !== input.analyst && !privileged) {
    throw ApplicationFailure.nonRetryable(`model ${input.modelId} belongs to another analyst`, RELEASE_REFUSED);
  }
  // The whole chain's guarantee: a DP run on top of a non-DP model is not DP.
  const { epsilon } = releaseGuarantee(privacy);
  if (epsilon === 'unlimited') {
    if (!privileged) throw ApplicationFailure.nonRetryable(`model ${input.modelId} was trained without differential privacy: its samples are for privileged analysts only`, RELEASE_REFUSED);
    if (input.maxEpsilon !== 'unlimited') {
      throw ApplicationFailure.nonRetryable(`model ${input.modelId} is not differentially private (ε unlimited) but at most ε=${input.maxEpsilon} was accepted`, RELEASE_REFUSED);
    }
  } else if (input.maxEpsilon !== 'unlimited' && epsilon > input.maxEpsilon) {
    throw ApplicationFailure.nonRetryable(`model ${input.modelId} spent ε=${epsilon.toFixed(3)}${privacy.lineage && privacy.lineage.length > 1 ? ' along its lineage' : ''}, above the accepted ε=${input.maxEpsilon}`, RELEASE_REFUSED);
  }
  return { ...privacy, epsilon, delta: releaseGuarantee(privacy).delta };
}
