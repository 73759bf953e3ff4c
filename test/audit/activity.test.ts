// The audit activity on the real S3: a registered model (a random tiny GPT-2 with privacy
// metadata) and its run's committed train/test tokens in, audits/<modelId>/ committed by its own
// manifest out (audit.json, audit.html; the summary in the manifest's meta); idempotent; typed
// non-retryable failures for what a retry cannot fix.
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { PLANTED_SECRET, SECRET_PREFIX, generatePatientNotes } from '../../clients/demo/patientNotes.ts';

const DEMO_CANARIES = [{ prompt: SECRET_PREFIX, secret: PLANTED_SECRET }];
import { auditActivities, type AuditModelOutput } from '../../activities/audit/index.ts';
import { auditPrefix, runDataPrefix } from '../../infra/storage/index.ts';
import type { ModelPrivacy } from '../../activities/models/registry.ts';
import { encodeTokenizedRows } from '../../activities/training/tokenizedRows.ts';
import { openCheckpoint, saveCheckpoint } from '../../engine/gpt2/index.ts';
import { END_OF_TEXT_ID, encode } from '../../engine/tokenizer/gpt2-tokenizer.ts';
import { modelPrefix, type ArtifactStore, type StoredObject } from '../../infra/storage/index.ts';
import { uniqueName } from '../helpers/names.ts';
import { testStore } from '../helpers/storage.ts';

let store: ArtifactStore;
const modelId = uniqueName('audit-model');
const jobId = uniqueName('audit-job');
const { auditModel } = auditActivities();

before(async () => {
  store = await testStore();
  const dir = await mkdtemp(join(tmpdir(), 'veil-audit-test-'));
  try {
    await saveCheckpoint(dir, await openCheckpoint('random:tiny@audit-activity'));
    const objects: StoredObject[] = [];
    for (const file of (await readdir(dir)).sort()) objects.push(await store.putImmutable(`${modelPrefix(modelId)}/${file}`, createReadStream(join(dir, file))));
    const privacy: ModelPrivacy = {
      modelId, jobId, analyst: 'alice', dataset: { name: 'notes', version: 1 }, base: 'tiny', epsilon: 4.2, delta: 1e-5,
      noiseMultiplier: 1.1, maxGradNorm: 1, samplingRate: 0.1, steps: 10, accountant: 'prv', trainRows: 50, evaluation: null, createdAt: new Date().toISOString(),
    };
    await store.writeManifest(modelPrefix(modelId), objects, privacy);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const rows = generatePatientNotes({ rows: 70, secretCopies: 2, seed: 'audit-activity' }).map((r) => [...encode(r.note), END_OF_TEXT_ID]);
  const data = runDataPrefix(jobId);
  const train = await store.putImmutable(`${data}/train.tokens`, encodeTokenizedRows(rows.slice(0, 50)));
  const test = await store.putImmutable(`${data}/test.tokens`, encodeTokenizedRows(rows.slice(50)));
  await store.writeManifest(data, [train, test], {});
});

after(async () => {
  for (const prefix of [modelPrefix(modelId), runDataPrefix(jobId), auditPrefix(modelId)]) await store?.deletePrefix(prefix);
});

async function readText(manifestPrefix: string, file: string): Promise<string> {
  const manifest = await store.readManifest(manifestPrefix);
  const parts: Buffer[] = [];
  for await (const chunk of await store.getEntry(manifest, file)) parts.push(chunk as Buffer);
  return Buffer.concat(parts).toString('utf8');
}

test('audits a registered model and commits audit.json and audit.html under audits/<modelId>/', async () => {
  const out: AuditModelOutput = await new MockActivityEnvironment().run(auditModel, { canaries: DEMO_CANARIES, modelId, maxRowsPerSide: 16 });
  assert.equal(out.prefix, `audits/${modelId}`);
  assert.equal(out.jsonKey, `audits/${modelId}/audit.json`);
  assert.equal(out.summary.epsilon, 4.2);
  assert.equal(out.summary.canary.candidates, 1200);
  // A DP model's analyst does not see membership inference: it scores private rows.
  assert.equal(out.summary.membership, undefined);

  const manifest = await store.readManifest(out.prefix);
  assert.deepEqual(Object.keys(manifest.entries).sort(), ['audit.html', 'audit.json']);
  const ownerSummary = manifest.meta.summary as { membership: { members: number; nonMembers: number } };
  assert.equal(ownerSummary.membership.members, 16, 'the owner\'s summary keeps it');
  assert.equal(ownerSummary.membership.nonMembers, 16);
  assert.deepEqual({ ...ownerSummary, membership: undefined }, { ...out.summary, membership: undefined });
  assert.doesNotMatch(JSON.stringify(manifest.meta), /pancreatic|Dupont/, 'the meta holds no private text');
  const doc = JSON.parse(await readText(out.prefix, 'audit.json')) as { format: string; model: { epsilon: number; dataset: unknown }; access: { audience: string }; extraction: { prefix: string } };
  assert.equal(doc.format, 'veil-audit/1');
  assert.equal(doc.model.epsilon, 4.2);
  assert.deepEqual(doc.model.dataset, { name: 'notes', version: 1 });
  assert.equal(doc.access.audience, 'data-owner');
  assert.equal(doc.extraction.prefix, 'François Dupont suffers');
  const html = await readText(out.prefix, 'audit.html');
  assert.ok(html.startsWith('<!DOCTYPE html>') && html.includes(modelId) && html.includes('ε = 4.20'));

  // A retry finds the committed audit and returns it without recomputing.
  const again = await new MockActivityEnvironment().run(auditModel, { canaries: DEMO_CANARIES, modelId, maxRowsPerSide: 3 });
  assert.deepEqual(again, out);
});

test('an unknown model and missing run data fail for good', async () => {
  await assert.rejects(new MockActivityEnvironment().run(auditModel, { canaries: DEMO_CANARIES, modelId: uniqueName('nope') }), (err: unknown) => {
    assert.ok(err instanceof ApplicationFailure);
    assert.equal(err.type, 'ModelNotFound');
    assert.equal(err.nonRetryable, true);
    return true;
  });
  await assert.rejects(new MockActivityEnvironment().run(auditModel, { canaries: DEMO_CANARIES, modelId: modelId + '-x', dataPrefix: 'runs/none/data' }), /not registered/);
  const otherModel = uniqueName('audit-model-nodata');
  const cfg = await store.putImmutable(`${modelPrefix(otherModel)}/config.json`, '{}');
  const { modelId: _drop, createdAt: _c, ...meta } = (await store.readManifest(modelPrefix(modelId))).meta as ModelPrivacy;
  await store.writeManifest(modelPrefix(otherModel), [cfg], { ...meta, modelId: otherModel, createdAt: new Date().toISOString() });
  try {
    await assert.rejects(new MockActivityEnvironment().run(auditModel, { canaries: DEMO_CANARIES, modelId: otherModel, dataPrefix: `runs/${uniqueName('none')}/data` }), (err: unknown) => {
      assert.ok(err instanceof ApplicationFailure);
      assert.equal(err.type, 'AuditNotPossible');
      assert.equal(err.nonRetryable, true);
      return true;
    });
  } finally {
    await store.deletePrefix(modelPrefix(otherModel));
  }
});
