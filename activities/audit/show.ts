// A model's audit as its caller may see it: the dataset's owner gets the whole summary and the
// self-contained HTML page; the analyst who trained the model gets the analyst's summary (no
// membership numbers or per-canary detail for a DP model); anyone else is refused.
import { ApplicationFailure } from '@temporalio/activity';
import { FORBIDDEN } from '../../contracts/access.ts';
import { SHOW_AUDIT_ACTION, type ShowAuditInput, type ShowAuditResult } from '../../contracts/audit.ts';
import { Failure } from '../../contracts/failures.ts';
import { analystAuditSummary, type AuditSummary } from '../../engine/audit/index.ts';
import { datasetOwner } from '../../infra/access/index.ts';
import { auditPrefix } from '../../infra/storage/index.ts';
import { readModelPrivacy } from '../models/registry.ts';
import { sharedStore } from '../shared/resources.ts';
import { verifySigner } from './owner-auth.ts';

export async function showAudit(input: ShowAuditInput): Promise<ShowAuditResult> {
  const store = await sharedStore();
  const signer = await verifySigner(store, SHOW_AUDIT_ACTION, input as Record<string, unknown>, false);
  const privacy = await readModelPrivacy(store, input.modelId);
  if (!privacy) throw ApplicationFailure.nonRetryable(`no registered model ${input.modelId}`, Failure.ModelNotFound);
  const manifest = await store.tryReadManifest(auditPrefix(input.modelId));
  if (!manifest) throw ApplicationFailure.nonRetryable(`model ${input.modelId} has no audit yet`, Failure.ModelNotFound);
  const summary = manifest.meta.summary as AuditSummary;
  const owner = signer.role === 'owner' && (await datasetOwner(store, privacy.dataset.name)) === signer.id;
  if (owner) {
    const html = (await store.getEntryBuffer(manifest, 'audit.html')).toString('utf8');
    return { modelId: input.modelId, audience: 'data-owner', summary: summary as unknown as Record<string, unknown>, html };
  }
  if (signer.id === privacy.analyst) return { modelId: input.modelId, audience: 'analyst', summary: analystAuditSummary(summary) as unknown as Record<string, unknown>, html: null };
  throw ApplicationFailure.nonRetryable(`${signer.id} may not read the audit of model ${input.modelId}: it is for the dataset's owner and the model's analyst`, FORBIDDEN);
}
