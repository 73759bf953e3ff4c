// The audit activity on the real S3: a registered model (a random tiny GPT-2 with privacy
// metadata), its run's committed train/test tokens with inserted canary slots, and the data owner's
// canary committed beside its dataset in; audits/<modelId>/ committed by its own manifest out (audit.json, audit.html; the summary in the manifest's meta); idempotent; typed
// non-retryable failures for what a retry cannot fix.
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { PLANTED_SECRET, SECRET_PREFIX, generatePatientNotes } from '../../clients/demo/patient-notes.ts';

const DEMO_CANARIES = [{ prompt: SECRET_PREFIX, secret: PLANTED_SECRET }];
const dataset = uniqueName('audit-notes').toLowerCase();
const INSERTED = 40;
let includedCount = -1;
import { auditActivities, type AuditModelOutput } from '../../activities/audit/index.ts';
import { auditPrefix, ownerCanariesPrefix, ownerCanarySetPrefix, runDataPrefix } from '../../infra/storage/index.ts';
import { encodeInsertedCanaries, insertedCanarySlots } from '../../activities/audit/inserted-canaries.ts';
import type { ModelPrivacy } from '../../activities/models/registry.ts';
import { encodeTokenizedRows } from '../../activities/training/tokenized-rows.ts';
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
      modelId, jobId, analyst: 'alice', dataset: { name: dataset, version: 1 }, base: 'tiny', epsilon: 4.2, delta: 1e-5,
      noiseMultiplier: 1.1, maxGradNorm: 1, samplingRate: 0.1, steps: 10, accountant: 'prv', trainRows: 50, evaluation: null, createdAt: new Date().toISOString(),
    };
    await store.writeManifest(modelPrefix(modelId), objects, privacy);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const rows = generatePatientNotes({ rows: 70, secretCopies: 2, seed: 'audit-activity' }).map((r) => [...encode(r.note), END_OF_TEXT_ID]);
  const data = runDataPrefix(jobId);
  const inserted = await insertedCanarySlots(store, jobId, INSERTED, 32);
  includedCount = inserted.filter((c) => c.included).length;
  const train = await store.putImmutable(`${data}/train.tokens`, encodeTokenizedRows([...rows.slice(0, 50), ...inserted.map((c) => (c.included ? c.tokens : []))]));
  const test = await store.putImmutable(`${data}/test.tokens`, encodeTokenizedRows(rows.slice(50)));
  const canaries = await store.putImmutable(`${data}/inserted-canaries.json`, encodeInsertedCanaries(inserted));
  await store.writeManifest(data, [train, test, canaries], {});
  const owner = await store.putImmutable(`${ownerCanarySetPrefix(dataset, 'set-1')}/canaries.json`, JSON.stringify(DEMO_CANARIES));
  await store.writeManifest(ownerCanarySetPrefix(dataset, 'set-1'), [owner], { dataset, owner: 'hospital', count: 1 });
});

after(async () => {
  for (const prefix of [modelPrefix(modelId), runDataPrefix(jobId), auditPrefix(modelId), ownerCanariesPrefix(dataset), `secrets/runs/${jobId}`]) await store?.deletePrefix(prefix);
});

async function readText(manifestPrefix: string, file: string): Promise<string> {
  const manifest = await store.readManifest(manifestPrefix);
  const parts: Buffer[] = [];
  for await (const chunk of await store.getEntry(manifest, file)) parts.push(chunk as Buffer);
  return Buffer.concat(parts).toString('utf8');
}

test('audits a registered model and commits audit.json and audit.html under audits/<modelId>/', async () => {
  const out: AuditModelOutput = await new MockActivityEnvironment().run(auditModel, { modelId, maxRowsPerSide: 16 });
  assert.equal(out.prefix, `audits/${modelId}`);
  assert.equal(out.jsonKey, `audits/${modelId}/audit.json`);
  assert.equal(out.summary.epsilon, 4.2);
  assert.deepEqual(out.summary.ownerCanaries, { count: 1, greedyLeaks: 0, anyLeaks: 0 }, 'the analyst sees counts, not the canary');
  assert.equal(out.summary.oneRun?.canaries, INSERTED);
  assert.equal(out.summary.failed, false, 'an untrained model cannot prove ε above 4.2');
  // A DP model's analyst does not see membership inference: it scores private rows.
  assert.equal(out.summary.membership, undefined);

  const manifest = await store.readManifest(out.prefix);
  assert.deepEqual(Object.keys(manifest.entries).sort(), ['audit.html', 'audit.json']);
  const ownerSummary = manifest.meta.summary as { membership: { members: number; nonMembers: number }; ownerCanaries: { details: { prompt: string; candidates: number }[] } };
  assert.equal(ownerSummary.ownerCanaries.details[0].candidates, 1200, 'the owner\'s summary has each canary');
  assert.equal(ownerSummary.membership.members, 16, 'the owner\'s summary keeps it');
  assert.equal(ownerSummary.membership.nonMembers, 16);
  assert.doesNotMatch(JSON.stringify(out.summary), /pancreatic|Dupont/, 'the analyst\'s summary holds no private text');
  const doc = JSON.parse(await readText(out.prefix, 'audit.json')) as { format: string; model: { epsilon: number; dataset: unknown }; access: { audience: string }; ownerCanaries: { extraction: { prefix: string } }[]; oneRun: { canaries: number; included: number } };
  assert.equal(doc.format, 'veil-audit/2');
  assert.equal(doc.oneRun.canaries, INSERTED);
  assert.equal(doc.oneRun.included, includedCount);
  assert.equal(doc.model.epsilon, 4.2);
  assert.deepEqual(doc.model.dataset, { name: dataset, version: 1 });
  assert.equal(doc.access.audience, 'data-owner');
  assert.equal(doc.ownerCanaries[0].extraction.prefix, 'François Dupont suffers');
  const html = await readText(out.prefix, 'audit.html');
  assert.ok(html.startsWith('<!DOCTYPE html>') && html.includes(modelId) && html.includes('ε = 4.20'));

  // A retry finds the committed audit and returns it without recomputing.
  const again = await new MockActivityEnvironment().run(auditModel, { modelId, maxRowsPerSide: 3 });
  assert.deepEqual(again, out);
});

test('an unknown model and missing run data fail for good', async () => {
  await assert.rejects(new MockActivityEnvironment().run(auditModel, { modelId: uniqueName('nope') }), (err: unknown) => {
    assert.ok(err instanceof ApplicationFailure);
    assert.equal(err.type, 'ModelNotFound');
    assert.equal(err.nonRetryable, true);
    return true;
  });
  await assert.rejects(new MockActivityEnvironment().run(auditModel, { modelId: modelId + '-x', dataPrefix: 'runs/none/data' }), /not registered/);
  const otherModel = uniqueName('audit-model-nodata');
  const cfg = await store.putImmutable(`${modelPrefix(otherModel)}/config.json`, '{}');
  const { modelId: _drop, createdAt: _c, ...meta } = (await store.readManifest(modelPrefix(modelId))).meta as ModelPrivacy;
  await store.writeManifest(modelPrefix(otherModel), [cfg], { ...meta, modelId: otherModel, createdAt: new Date().toISOString() });
  try {
    await assert.rejects(new MockActivityEnvironment().run(auditModel, { modelId: otherModel, dataPrefix: `runs/${uniqueName('none')}/data` }), (err: unknown) => {
      assert.ok(err instanceof ApplicationFailure);
      assert.equal(err.type, 'AuditNotPossible');
      assert.equal(err.nonRetryable, true);
      return true;
    });
  } finally {
    await store.deletePrefix(modelPrefix(otherModel));
  }
});
