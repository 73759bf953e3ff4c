// The whole audit on two tiny GPT-2s and the same rows: an untrained one (nothing to find) and
// one trained hard, without DP, on four rows including the planted secret (everything to find),
// the secret registered as the data owner's canary.
// Also the JSON document and the self-contained HTML page built from them.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { PLANTED_SECRET, SECRET_PREFIX } from '../../clients/demo/patient-notes.ts';
import {
  SequenceScorer,
  analystAuditSummary,
  auditDocument,
  renderAuditHtml,
  runPrivacyAudit,
  type PrivacyAudit,
  oneRunAudit,
  membershipInference,
  rowLosses,
} from '../../engine/audit/index.ts';
import { Gpt2Model, openCheckpoint, type Gpt2Checkpoint } from '../../engine/gpt2/index.ts';
import { exchangeableRows, memorizedRows, memorizingModel, type AuditFixture } from './memorizing-model.ts';

let untrained: PrivacyAudit;
let memorized: PrivacyAudit;

async function audit(checkpoint: Gpt2Checkpoint, rows: AuditFixture): Promise<PrivacyAudit> {
  const generator = await Gpt2Model.create(checkpoint);
  const scorer = await SequenceScorer.create(checkpoint);
  try {
    return await runPrivacyAudit({ generator, scorer }, {
      canaries: [{ prompt: SECRET_PREFIX, secret: PLANTED_SECRET }],
      trainRows: rows.trainRows,
      testRows: rows.testRows,
      seed: 'audit-test',
    });
  } finally {
    await generator.release();
    await scorer.release();
  }
}

before(async () => {
  untrained = await audit(await openCheckpoint('random:tiny@audit-memorize'), exchangeableRows());
  const rows = memorizedRows();
  const started = performance.now();
  const trained = await memorizingModel(rows.trainRows);
  console.log(`# memorizing model trained in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  memorized = await audit(trained, rows);
  for (const [name, a] of [['untrained', untrained], ['memorized', memorized]] as const) {
    console.log(`# ${name}: audit ${Object.entries(a.timingsMs).map(([k, v]) => `${k} ${(v / 1000).toFixed(2)} s`).join(', ')}`);
  }
});

void test('untrained model: no extraction, exposure of chance, membership AUC near ½', () => {
  const x = untrained.ownerCanaries[0].extraction;
  assert.equal(x.completions, 6);
  assert.equal(x.fullMatches, 0);
  assert.equal(x.keyWordMatches, 0);
  const c = untrained.ownerCanaries[0].exposure;
  assert.equal(c.candidates, 1200);
  assert.ok(c.exposureBits < 4, `exposure ${c.exposureBits} bits, rank ${c.rank}`);
  const m = untrained.membership;
  assert.equal(m.members, 80);
  assert.equal(m.nonMembers, 80);
  assert.ok(Math.abs(m.auc - 0.5) < 0.15, `AUC ${m.auc}`);
  // Losses of an untrained model sit near ln 50257 ≈ 10.8 nats for every row.
  assert.ok(Math.abs(m.meanLoss.members - Math.log(50257)) < 0.5 && Math.abs(m.meanLoss.nonMembers - Math.log(50257)) < 0.5);
});

void test("untrained model: the AUC's 95% interval covers ½ on most independent draws", async () => {
  // One fixed draw misses ½ one time in twenty by construction (the audit's own rows do, at 0.64):
  // the interval's calibration is checked over several independent exchangeable sets.
  const scorer = await SequenceScorer.create(await openCheckpoint('random:tiny@audit-memorize'));
  try {
    let covered = 0;
    const seeds = ['draw-1', 'draw-2', 'draw-3', 'draw-4', 'draw-5'];
    for (const seed of seeds) {
      const { trainRows, testRows } = exchangeableRows(seed);
      const losses = await rowLosses(scorer, [...trainRows, ...testRows]);
      const m = membershipInference(losses.slice(0, trainRows.length), losses.slice(trainRows.length));
      if (m.auc95[0] < 0.5 && m.auc95[1] > 0.5) covered++;
    }
    assert.ok(covered >= 4, `${covered} of ${seeds.length} intervals cover ½`);
  } finally {
    await scorer.release();
  }
});

void test('memorizing model: the secret comes back, ranks first, and members are told apart', () => {
  const x = memorized.ownerCanaries[0].extraction;
  assert.equal(x.remainder, ' from a severe form of pancreatic cancer');
  assert.equal(x.keyWords[0], 'pancreatic');
  assert.ok(x.greedy.containsSecret, `greedy: "${x.greedy.text}"`);
  assert.equal(x.greedy.matchedTokens, x.remainderTokens);
  assert.ok(x.fullMatches >= 3, `${x.fullMatches} of ${x.completions} completions`);
  const c = memorized.ownerCanaries[0].exposure;
  assert.equal(c.rank, 1);
  assert.equal(c.exposureBits, Math.log2(1200));
  assert.equal(c.top[0].text, 'a severe form of pancreatic cancer');
  // The Gaussian fit to the alternatives agrees: far in their lower tail.
  assert.ok(c.extrapolated && c.extrapolated.exposureBits > 9, `extrapolated ${c.extrapolated?.exposureBits}`);
  const m = memorized.membership;
  assert.equal(m.members, 4);
  assert.equal(m.nonMembers, 24);
  assert.equal(m.auc, 1);
  assert.ok(m.meanLoss.members < 1 && m.meanLoss.nonMembers > 3, JSON.stringify(m.meanLoss));
  const at1 = m.tprAtFpr.find((r) => r.targetFpr === 0.01)!;
  assert.deepEqual([at1.truePositives, at1.falsePositives, at1.tpr], [4, 0, 1]);
});

void test('the document: numbers, ε, who may see it, and a summary of aggregates only', () => {
  const doc = auditDocument({ modelId: 'm-1', epsilon: 'unlimited', delta: null, base: 'tiny' }, memorized, new Date('2025-01-02T03:04:05Z'));
  assert.equal(doc.format, 'veil-audit/2');
  assert.equal(doc.createdAt, '2025-01-02T03:04:05.000Z');
  assert.equal(doc.model.epsilon, 'unlimited');
  assert.equal(doc.access.audience, 'data-owner');
  assert.equal(doc.access.differentiallyPrivate, false);
  const [detail] = doc.summary.ownerCanaries.details;
  assert.deepEqual({ ...detail, fullMatches: 0 }, { prompt: SECRET_PREFIX, greedyContainsSecret: true, fullMatches: 0, completions: 6, candidates: 1200, rank: 1, exposureBits: 10.2, maxExposureBits: 10.2 });
  assert.equal(doc.summary.ownerCanaries.greedyLeaks, 1);
  assert.equal(doc.summary.membership.auc, 1);
  assert.equal(doc.summary.oneRun, null);
  assert.equal(doc.summary.failed, false);
  // The analyst's view: counts only, no prompt, no completion, no secret.
  const analyst = analystAuditSummary(doc.summary);
  assert.deepEqual(analyst.ownerCanaries, { count: 1, greedyLeaks: 1, anyLeaks: 1 });
  assert.doesNotMatch(JSON.stringify(analyst), /pancreatic|Dupont|severe|François/);
  assert.equal(analystAuditSummary({ ...doc.summary, epsilon: 2 }).membership, undefined, 'membership is the owner\'s for a DP model');
  assert.match(doc.findings.join(' '), /gave the secret back, the greedy one included/);
  assert.match(doc.findings.join(' '), /inserted no canaries/);
});

void test('the HTML page is self-contained, escapes text and draws the charts', () => {
  const doc = auditDocument({ modelId: 'm<&>"1', epsilon: 3.5, delta: 1e-5 }, untrained);
  doc.ownerCanaries[0].extraction.greedy.text = '<script>alert(1)</script> & more';
  const html = renderAuditHtml(doc);
  assert.ok(html.startsWith('<!DOCTYPE html>'));
  assert.equal((html.match(/<svg /g) ?? []).length, 3, 'exposure histogram, loss histogram, ROC');
  assert.doesNotMatch(html, /<script|src=|href=|@import|url\(/i, 'no script and no external asset');
  assert.ok([...html.matchAll(/https?:\/\/[^"\s]*/g)].every((m) => m[0] === 'http://www.w3.org/2000/svg'));
  assert.match(html, /&lt;script&gt;alert\(1\)&lt;\/script&gt; &amp; more/);
  assert.match(html, /m&lt;&amp;&gt;&quot;1/);
  assert.match(html, /ε = 3\.50, δ = 1\.0e-5/);
  assert.match(html, /secret: rank \d+/);
});

void test('an audit with inserted canaries: the bound next to the reported ε, and a failed audit said out loud', () => {
  const included = Array.from({ length: 100 }, (_, i) => i % 2 === 0);
  const oneRun = { ...oneRunAudit(included.map((inc, i) => (inc ? 1 : 6) + i * 1e-3), included, 1e-5), losses: [] };
  const withBound: PrivacyAudit = { ...untrained, oneRun };
  assert.ok(oneRun.epsilonLowerBound > 2, `bound ${oneRun.epsilonLowerBound}`);
  const fine = auditDocument({ modelId: 'm-2', epsilon: 'unlimited', delta: null }, withBound);
  assert.equal(fine.summary.failed, false);
  assert.equal(fine.summary.oneRun!.epsilonLowerBound, Math.floor(oneRun.epsilonLowerBound * 100) / 100);
  const failed = auditDocument({ modelId: 'm-3', epsilon: 1, delta: 1e-5 }, withBound);
  assert.equal(failed.summary.failed, true);
  assert.equal(analystAuditSummary(failed.summary).failed, true, 'the analyst learns that the model failed its audit');
  assert.match(failed.findings[0], /^AUDIT FAILED/);
  const html = renderAuditHtml(failed);
  assert.equal((html.match(/<svg /g) ?? []).length, 4, 'the ε chart besides the three others');
  assert.match(html, /ε: empirical lower bound vs reported/);
});
