// Downloading a registered model: who may read a model's weights, and the presigned GET URLs that
// hand its files out. The weights are a release of the model like its samples, so the rules are
// the sample release's (activities/sampling/release.ts) held to the whole lineage's guarantee:
// - a model trained without DP anywhere along its lineage is for privileged principals only;
// - a DP model is for the analyst who trained it, the owner of the dataset it was trained on, and
//   privileged analysts (who may sample any model).
// The caller's signature is checked here, as showAudit does (the action is not one of authorize's).
import { ApplicationFailure, Context } from '@temporalio/activity';
import { FORBIDDEN } from '../../contracts/access.ts';
import { Failure } from '../../contracts/failures.ts';
import { MODEL_DOWNLOAD_ACTION, MODEL_DOWNLOAD_URL_SECONDS, isModelFileName, type ModelDownloadInput, type ModelDownloadResult } from '../../contracts/models.ts';
import { datasetOwner } from '../../infra/access/index.ts';
import { modelPrefix } from '../../infra/storage/index.ts';
import { verifySigner, type Signer } from '../audit/owner-auth.ts';
import { sharedStore } from '../shared/resources.ts';
import { modelPrivacySchema, releaseGuarantee, type ModelPrivacy } from './registry.ts';

export type DownloadDecision = { readAs: ModelDownloadResult['readAs'] } | { refused: string };

/** The rule, as a pure function of the signer, the model's metadata and its dataset's owner. */
export function mayDownload(signer: Signer, privacy: ModelPrivacy, owner: string | undefined): DownloadDecision {
  const { epsilon } = releaseGuarantee(privacy);
  if (epsilon === 'unlimited') {
    if (signer.privileged) return { readAs: 'privileged' };
    const along = privacy.epsilon === 'unlimited' ? '' : ' along its lineage';
    return { refused: `model ${privacy.modelId} was trained without differential privacy${along}: its weights are for privileged principals only` };
  }
  if (signer.role === 'analyst' && signer.id === privacy.analyst) return { readAs: 'analyst' };
  if (signer.role === 'owner' && owner !== undefined && signer.id === owner) return { readAs: 'data-owner' };
  if (signer.role === 'analyst' && signer.privileged) return { readAs: 'privileged' };
  return { refused: `${signer.id} may not download model ${privacy.modelId}: it is for the analyst who trained it and the owner of dataset "${privacy.dataset.name}"` };
}

/** Checks the signed request and the rule, then presigns a GET for every file of the model. */
export async function presignModelDownload(input: ModelDownloadInput): Promise<ModelDownloadResult> {
  const store = await sharedStore();
  // Once per signed request: a copied request started under another workflow gets nothing.
  const signer = await verifySigner(store, MODEL_DOWNLOAD_ACTION, input as Record<string, unknown>, true);
  const manifest = await store.tryReadManifest(modelPrefix(input.modelId), modelPrivacySchema);
  if (!manifest) throw ApplicationFailure.nonRetryable(`no registered model ${input.modelId}`, Failure.ModelNotFound);
  const privacy = manifest.meta;
  const decision = mayDownload(signer, privacy, await datasetOwner(store, privacy.dataset.name));
  if ('refused' in decision) throw ApplicationFailure.nonRetryable(decision.refused, FORBIDDEN);
  const paths = Object.keys(manifest.entries).sort();
  const odd = paths.find((p) => !isModelFileName(p));
  if (odd !== undefined) throw ApplicationFailure.nonRetryable(`model ${input.modelId} holds a file a download cannot write ("${odd}")`, Failure.ModelNotFound);
  const expiresAt = new Date(Date.now() + MODEL_DOWNLOAD_URL_SECONDS * 1000).toISOString();
  const files = await Promise.all(
    paths.map(async (path) => {
      Context.current().heartbeat();
      const { size, sha256 } = manifest.entries[path];
      const url = await store.client.presignedGetObject(store.bucket, `${manifest.prefix}/${path}`, MODEL_DOWNLOAD_URL_SECONDS);
      return { path, size, sha256, url };
    }),
  );
  const { epsilon, delta } = releaseGuarantee(privacy);
  return { modelId: privacy.modelId, epsilon, delta, readAs: decision.readAs, files, expiresAt };
}
