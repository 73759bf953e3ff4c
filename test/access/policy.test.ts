// The access rules (activities/access/policy.ts), one case per rule and per way around it.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decide, type Action } from '../../activities/access/policy.ts';
import type { Principal } from '../../infra/access/index.ts';

const at = '2026-01-01T00:00:00.000Z';
const owner: Principal = { id: 'hospital', role: 'owner', privileged: false, createdAt: at };
const otherOwner: Principal = { id: 'lab', role: 'owner', privileged: false, createdAt: at };
const alice: Principal = { id: 'alice', role: 'analyst', privileged: false, createdAt: at };
const lead: Principal = { id: 'lead', role: 'analyst', privileged: true, createdAt: at };
const revoked: Principal = { ...alice, id: 'eve', revokedAt: at };

const allowed = (p: Principal, action: Action, request: Record<string, unknown>, facts = {}) => assert.equal(decide(p, action, request, facts), null);
const refused = (p: Principal, action: Action, request: Record<string, unknown>, pattern: RegExp, facts = {}) => {
  const r = decide(p, action, request, facts);
  assert.ok(r, `${p.id} ${action} should be refused`);
  assert.equal(r.kind, 'Forbidden');
  assert.match(r.message, pattern);
};

describe('access rules', () => {
  it('owners ingest new names and their own datasets, never another owner\'s; analysts ingest nothing', () => {
    allowed(owner, 'ingestDataset', { name: 'notes' }, { datasetOwner: 'hospital' });
    refused(otherOwner, 'ingestDataset', { name: 'notes' }, /belongs to another data owner/, { datasetOwner: 'hospital' });
    refused(alice, 'ingestDataset', { name: 'mine' }, /only data owners/);
  });

  it('only the dataset owner grants, and only to an active analyst', () => {
    allowed(owner, 'grant', { dataset: 'notes', analyst: 'alice' }, { datasetOwner: 'hospital', grantee: alice });
    refused(otherOwner, 'grant', { dataset: 'notes', analyst: 'alice' }, /does not own dataset "notes"/, { datasetOwner: 'hospital', grantee: alice });
    refused(owner, 'grant', { dataset: 'unowned', analyst: 'alice' }, /does not own/, { grantee: alice });
    refused(alice, 'grant', { dataset: 'notes', analyst: 'alice' }, /only the dataset's owner/, { datasetOwner: 'hospital', grantee: alice });
    refused(owner, 'grant', { dataset: 'notes', analyst: 'lab' }, /is not an analyst/, { datasetOwner: 'hospital', grantee: otherOwner });
    refused(owner, 'grant', { dataset: 'notes', analyst: 'nobody' }, /is not an analyst/, { datasetOwner: 'hospital' });
    refused(owner, 'grant', { dataset: 'notes', analyst: 'eve' }, /was revoked/, { datasetOwner: 'hospital', grantee: revoked });
  });

  it('analysts fine-tune and sample as themselves only; owners do neither', () => {
    allowed(alice, 'fineTune', { analyst: 'alice', training: { targetEpsilon: 8 } });
    allowed(alice, 'sample', { analyst: 'alice', maxEpsilon: 8 });
    refused(alice, 'fineTune', { analyst: 'lead', training: { targetEpsilon: 8 } }, /only run jobs as itself/);
    refused(alice, 'sample', { analyst: 'lead', maxEpsilon: 8 }, /only run jobs as itself/);
    refused(owner, 'fineTune', { analyst: 'hospital', training: { targetEpsilon: 8 } }, /only analysts/);
    refused(owner, 'sample', { analyst: 'hospital', maxEpsilon: 8 }, /only analysts/);
  });

  it("'unlimited' (no DP) is for privileged analysts only, for training and for samples", () => {
    refused(alice, 'fineTune', { analyst: 'alice', training: { targetEpsilon: 'unlimited' } }, /without differential privacy/);
    refused(alice, 'sample', { analyst: 'alice', maxEpsilon: 'unlimited' }, /without differential privacy/);
    allowed(lead, 'fineTune', { analyst: 'lead', training: { targetEpsilon: 'unlimited' } });
    allowed(lead, 'sample', { analyst: 'lead', maxEpsilon: 'unlimited' });
  });

  it('anyone signed in may read the catalog (names, schemas, synthetic previews)', () => {
    for (const p of [owner, alice, lead]) allowed(p, 'catalog', {});
  });
});
