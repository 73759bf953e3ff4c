// Who may download a model's weights (activities/models/download.ts): the sample release's rules,
// held to the whole lineage's guarantee. Pure: no servers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mayDownload } from '../../activities/models/download.ts';
import type { ModelPrivacy } from '../../activities/models/registry.ts';

const link = (modelId: string, epsilon: number | 'unlimited', analyst = 'alice') => ({ modelId, analyst, dataset: { name: 'notes', version: 1 }, epsilon, delta: epsilon === 'unlimited' ? null : 1e-5 });

function model(epsilon: number | 'unlimited', lineage = [link('m1', epsilon)]): ModelPrivacy {
  const composed = lineage.some((l) => l.epsilon === 'unlimited') ? 'unlimited' : lineage.reduce((s, l) => s + (l.epsilon as number), 0);
  return {
    ...link('m1', epsilon), jobId: 'm1', base: 'random:tiny', noiseMultiplier: 1, maxGradNorm: 1, samplingRate: 0.1, steps: 1,
    accountant: 'prv', trainRows: 10, evaluation: null, createdAt: '2026-12-02T00:00:00Z', lineage, guarantee: { epsilon: composed, delta: 1e-5 },
  };
}
const analyst = (id: string, privileged = false) => ({ id, role: 'analyst', privileged });
const owner = (id: string) => ({ id, role: 'owner', privileged: false });

test('a DP model: its analyst, its dataset owner and privileged analysts; nobody else', () => {
  const dp = model(3);
  assert.deepEqual(mayDownload(analyst('alice'), dp, 'hospital'), { readAs: 'analyst' });
  assert.deepEqual(mayDownload(owner('hospital'), dp, 'hospital'), { readAs: 'data-owner' });
  assert.deepEqual(mayDownload(analyst('lead', true), dp, 'hospital'), { readAs: 'privileged' });
  for (const who of [analyst('bob'), owner('clinic'), owner('alice')]) {
    const d = mayDownload(who, dp, 'hospital');
    assert.ok('refused' in d, `${who.role} ${who.id} is refused`);
    assert.match(d.refused, /for the analyst who trained it and the owner of dataset "notes"/);
  }
  assert.ok('refused' in mayDownload(owner('hospital'), dp, undefined), 'a dataset without a recorded owner has no owner reader');
});

test('a non-DP model, or a DP model on top of one, is for privileged principals only: its own analyst and the dataset owner included', () => {
  for (const m of [model('unlimited'), model(0.5, [link('m0', 'unlimited'), link('m1', 0.5)])]) {
    assert.deepEqual(mayDownload(analyst('lead', true), m, 'hospital'), { readAs: 'privileged' });
    for (const who of [analyst('alice'), owner('hospital'), analyst('bob')]) {
      const d = mayDownload(who, m, 'hospital');
      assert.ok('refused' in d);
      assert.match(d.refused, /without differential privacy.*privileged principals only/);
    }
  }
  const laundered = mayDownload(analyst('alice'), model(0.5, [link('m0', 'unlimited'), link('m1', 0.5)]), 'hospital');
  assert.ok('refused' in laundered && /along its lineage/.test(laundered.refused));
});
