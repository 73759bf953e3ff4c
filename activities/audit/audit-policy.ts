// A data owner's audit policy for a dataset: the least number of random canaries every fine-tune on
// it inserts, so that every model trained on the owner's data comes with an empirical lower bound
// on its ε, whatever the analyst asked for. Each change is a create-only record signed by the
// owner (its nonce claimed once); the highest revision rules. The fine-tune's preflight reads it
// before the accountant sees the training slots.
import { ApplicationFailure } from '@temporalio/activity';
import { AUDIT_POLICY_ACTION, NO_AUDIT_POLICY, auditPolicySchema, setAuditPolicySchema, type AuditPolicy, type SetAuditPolicyResult } from '../../contracts/audit.ts';
import { Failure } from '../../contracts/failures.ts';
import { auditPolicyKey, auditPolicyPrefix, ObjectExistsError, type ArtifactStore } from '../../infra/storage/index.ts';
import { sharedStore } from '../shared/resources.ts';
import { requireDatasetOwner, verifySigner } from './owner-auth.ts';

const REVISION_FILE = /\/(\d{8})\.json$/;

async function latestRevision(store: ArtifactStore, dataset: string): Promise<{ revision: number; key: string } | undefined> {
  let latest: { revision: number; key: string } | undefined;
  for (const { key } of await store.listObjects(`${auditPolicyPrefix(dataset)}/`)) {
    const match = REVISION_FILE.exec(key);
    if (match && (!latest || Number(match[1]) > latest.revision)) latest = { revision: Number(match[1]), key };
  }
  return latest;
}

/** The dataset's policy in effect (no record: no minimum). */
export async function readAuditPolicy(store: ArtifactStore, dataset: string): Promise<AuditPolicy> {
  const latest = await latestRevision(store, dataset);
  if (!latest) return NO_AUDIT_POLICY;
  const record = (await store.tryGetRawJson(latest.key)) as { policy?: unknown } | undefined;
  return auditPolicySchema.parse(record?.policy);
}

export async function setAuditPolicy(request: unknown): Promise<SetAuditPolicyResult> {
  const parsed = setAuditPolicySchema.safeParse(request);
  if (!parsed.success) {
    throw ApplicationFailure.nonRetryable(`invalid audit policy request: ${parsed.error.issues.map((x) => `${x.path.join('.')}: ${x.message}`).join('; ')}`, Failure.InvalidInput);
  }
  const { dataset, policy } = parsed.data;
  const store = await sharedStore();
  const signer = await verifySigner(store, AUDIT_POLICY_ACTION, request as Record<string, unknown>, true);
  await requireDatasetOwner(store, signer, dataset);
  // Two owners' changes racing: create-only keys make one of them take the next revision.
  for (;;) {
    const revision = ((await latestRevision(store, dataset))?.revision ?? 0) + 1;
    try {
      await store.putJsonImmutable(auditPolicyKey(dataset, revision), { dataset, policy, owner: signer.id, revision });
      return { dataset, policy, revision };
    } catch (err) {
      if (!(err instanceof ObjectExistsError)) throw err;
    }
  }
}
