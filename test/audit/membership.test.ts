// Membership-inference statistics against hand-computed cases and brute force: the AUC with
// ties counted half, DeLong's standard error, TPR at a low FPR with its counts, the ROC curve.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { aucStdError, membershipInference, rocAuc, rocCurve, tprAtFpr } from '../../engine/audit/index.ts';
import { SecureStream } from '../../engine/random/secure-stream.ts';

/** P(a > b) + ½ P(a = b) over all pairs, the definition itself. */
function pairwiseAuc(pos: number[], neg: number[]): number {
  let s = 0;
  for (const a of pos) for (const b of neg) s += a > b ? 1 : a === b ? 0.5 : 0;
  return s / (pos.length * neg.length);
}

function integers(n: number, max: number, seed: string): number[] {
  const rng = SecureStream.fromSeed(seed, 'test-audit');
  return Array.from({ length: n }, () => Math.floor(rng.nextDouble() * max));
}

void test('AUC: perfect separation, its reverse, all ties', () => {
  assert.equal(rocAuc([5, 6, 7], [1, 2]), 1);
  assert.equal(rocAuc([1, 2], [5, 6, 7]), 0);
  assert.equal(rocAuc([3, 3, 3], [3, 3]), 0.5);
});

void test('AUC: a hand-computed case with ties', () => {
  // Pairs (3,2) (3,1) (2,2) (2,1) (2,2) (2,1) → 1 + 1 + ½ + 1 + ½ + 1 = 5 of 6.
  assert.equal(rocAuc([3, 2, 2], [2, 1]), 5 / 6);
});

void test('AUC equals the pairwise definition on random scores with many ties', () => {
  for (const [m, n, max] of [[40, 25, 6], [7, 90, 30], [200, 150, 1000]] as const) {
    const pos = integers(m, max, `pos${m}`);
    const neg = integers(n, max, `neg${n}`);
    assert.ok(Math.abs(rocAuc(pos, neg) - pairwiseAuc(pos, neg)) < 1e-12);
  }
});

void test('DeLong standard error: the hand-computed placements', () => {
  // Placements of [3,2,2] vs [2,1]: V10 = [1, ¾, ¾], V01 = [⅔, 1].
  // S10 = var(V10) = 1/48, S01 = var(V01) = 1/18; Var(AUC) = S10/3 + S01/2.
  const expected = Math.sqrt(1 / 48 / 3 + 1 / 18 / 2);
  assert.ok(Math.abs(aucStdError([3, 2, 2], [2, 1]) - expected) < 1e-12);
  assert.equal(aucStdError([5, 6, 7], [1, 2]), 0, 'perfect separation: every placement is 1');
});

void test('DeLong interval covers 0.5 for exchangeable classes and not for shifted ones', () => {
  const a = integers(300, 1000, 'exch-a');
  const b = integers(300, 1000, 'exch-b');
  const same = membershipInference(a, b);
  assert.ok(same.auc95[0] < 0.5 && same.auc95[1] > 0.5, `${same.auc95}`);
  // Members' losses lower by a third of the range: clearly distinguishable.
  const shifted = membershipInference(a.map((x) => x - 330), b);
  assert.ok(shifted.auc > 0.7 && shifted.auc95[0] > 0.5, `${shifted.auc} ${shifted.auc95}`);
});

void test('TPR at FPR: threshold from the held-out scores, counts reported', () => {
  const neg = Array.from({ length: 100 }, (_, i) => i); // 0..99
  const pos = [98.5, 99.5, 50, 98];
  // 1% of 100 → at most one false positive: τ = 98 (the second largest); 99 passes, 98 does not.
  const r = tprAtFpr(pos, neg, 0.01);
  assert.deepEqual(r, { threshold: 98, truePositives: 2, falsePositives: 1 });
  // FPR 0 → τ = the largest held-out score.
  assert.deepEqual(tprAtFpr(pos, neg, 0), { threshold: 99, truePositives: 1, falsePositives: 0 });
  const report = membershipInference(pos.map((s) => -s), neg.map((s) => -s), [0.01]).tprAtFpr[0];
  assert.equal(report.lossThreshold, -98);
  assert.equal(report.tpr, 0.5);
  assert.equal(report.fpr, 0.01);
  assert.equal(report.members, 4);
  assert.equal(report.nonMembers, 100);
});

void test('ROC runs from (0,0) to (1,1), never decreases, and its area is the AUC', () => {
  const pos = integers(120, 40, 'roc-pos').map((x) => x + 5);
  const neg = integers(80, 40, 'roc-neg');
  const roc = rocCurve(pos, neg, 10_000);
  assert.deepEqual(roc[0], [0, 0]);
  assert.deepEqual(roc[roc.length - 1], [1, 1]);
  let area = 0;
  for (let i = 1; i < roc.length; i++) {
    assert.ok(roc[i][0] >= roc[i - 1][0] && roc[i][1] >= roc[i - 1][1]);
    area += ((roc[i][0] - roc[i - 1][0]) * (roc[i][1] + roc[i - 1][1])) / 2; // trapezoids count ties half
  }
  assert.ok(Math.abs(area - rocAuc(pos, neg)) < 1e-12);
  assert.ok(rocCurve(pos, neg, 20).length <= 20);
});

void test('membershipInference scores −loss: lower member losses mean AUC 1', () => {
  const r = membershipInference([0.1, 0.2, 0.3], [2, 3, 4, 5]);
  assert.equal(r.auc, 1);
  assert.deepEqual(r.auc95, [1, 1]);
  assert.deepEqual(r.meanLoss, { members: (0.1 + 0.2 + 0.3) / 3, nonMembers: 3.5 });
  assert.throws(() => membershipInference([], [1]), /both classes/);
  assert.throws(() => membershipInference([NaN], [1]), /NaN/);
});
