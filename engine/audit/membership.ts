// Loss-based membership inference (Yeom et al. 2018): the attacker calls a row a training member
// when the model's loss on it is low. Its success over all thresholds is the ROC AUC of the score
// −loss, members (training rows) against non-members (held-out rows): the Mann–Whitney U
// statistic, ties counted half. 0.5 means the losses tell members from non-members no better
// than a coin; 1 means every member has a lower loss than every non-member.
//
// The 95% interval is DeLong's (DeLong et al. 1988): the variance of U from its placement values.
// It is exact to first order and needs no resampling, but collapses to a point when the classes
// are perfectly separated (every placement is 1), so a [1, 1] interval means "separated in this
// sample", not certainty. TPR at a low FPR (Carlini et al. 2022) uses a threshold set on the same
// held-out rows (the attacker is granted the best threshold), reported with its counts.

export interface TprAtFpr {
  /** The FPR the threshold was chosen for: at most floor(targetFpr · nonMembers) false positives. */
  targetFpr: number;
  /** Rows with a loss strictly below this are called members. */
  lossThreshold: number;
  truePositives: number;
  falsePositives: number;
  members: number;
  nonMembers: number;
  tpr: number;
  fpr: number;
}

export interface MembershipInference {
  score: 'negative mean token loss';
  members: number;
  nonMembers: number;
  auc: number;
  /** DeLong 95% interval, clipped to [0, 1]. */
  auc95: [number, number];
  aucStdError: number;
  tprAtFpr: TprAtFpr[];
  /** ROC points (fpr, tpr) from (0, 0) to (1, 1), thinned to at most ~200. */
  roc: [number, number][];
  meanLoss: { members: number; nonMembers: number };
}

const Z_975 = 1.959963984540054;

/** P(a > b) + ½·P(a = b) for a drawn from `positives` and b from `negatives` (the AUC of the score). */
export function rocAuc(positives: readonly number[], negatives: readonly number[]): number {
  checkScores(positives, negatives);
  const m = positives.length;
  const n = negatives.length;
  const all = [...positives.map((s) => ({ s, pos: true })), ...negatives.map((s) => ({ s, pos: false }))].sort((a, b) => a.s - b.s);
  // Mid-ranks: tied scores share the mean of the ranks they span, which counts a tie as ½.
  let rankSumPos = 0;
  for (let i = 0; i < all.length; ) {
    let j = i;
    while (j < all.length && all[j].s === all[i].s) j++;
    const midRank = (i + 1 + j) / 2;
    for (let k = i; k < j; k++) if (all[k].pos) rankSumPos += midRank;
    i = j;
  }
  return (rankSumPos - (m * (m + 1)) / 2) / (m * n);
}

/** DeLong's standard error of rocAuc(positives, negatives). */
export function aucStdError(positives: readonly number[], negatives: readonly number[]): number {
  checkScores(positives, negatives);
  const sortedNeg = [...negatives].sort((a, b) => a - b);
  const sortedPos = [...positives].sort((a, b) => a - b);
  // Placements: how much of the other class each score beats (ties ½).
  const v10 = positives.map((x) => (countBelow(sortedNeg, x) + countEqual(sortedNeg, x) / 2) / negatives.length);
  const v01 = negatives.map((y) => (positives.length - countBelow(sortedPos, y) - countEqual(sortedPos, y) + countEqual(sortedPos, y) / 2) / positives.length);
  const variance = sampleVariance(v10) / positives.length + sampleVariance(v01) / negatives.length;
  return Math.sqrt(Math.max(0, variance));
}

/**
 * TPR at FPR ≤ target for the rule "member iff score > τ": τ is the (k+1)-th largest negative
 * score with k = floor(target · n), so at most k negatives (ties at τ excluded) pass.
 */
export function tprAtFpr(positives: readonly number[], negatives: readonly number[], targetFpr: number): { threshold: number; truePositives: number; falsePositives: number } {
  checkScores(positives, negatives);
  if (!(targetFpr >= 0 && targetFpr < 1)) throw new RangeError(`target FPR must be in [0, 1), got ${targetFpr}`);
  const desc = [...negatives].sort((a, b) => b - a);
  const k = Math.floor(targetFpr * negatives.length + 1e-9);
  const threshold = desc[Math.min(k, desc.length - 1)];
  return {
    threshold,
    truePositives: positives.filter((s) => s > threshold).length,
    falsePositives: negatives.filter((s) => s > threshold).length,
  };
}

/** ROC curve of the rule "member iff score ≥ τ" over every τ, as (fpr, tpr) points. */
export function rocCurve(positives: readonly number[], negatives: readonly number[], maxPoints = 200): [number, number][] {
  checkScores(positives, negatives);
  const all = [...positives.map((s) => ({ s, pos: true })), ...negatives.map((s) => ({ s, pos: false }))].sort((a, b) => b.s - a.s);
  const points: [number, number][] = [[0, 0]];
  let tp = 0;
  let fp = 0;
  for (let i = 0; i < all.length; ) {
    let j = i;
    while (j < all.length && all[j].s === all[i].s) {
      if (all[j].pos) tp++;
      else fp++;
      j++;
    }
    points.push([fp / negatives.length, tp / positives.length]);
    i = j;
  }
  if (points.length <= maxPoints) return points;
  const step = (points.length - 1) / (maxPoints - 1);
  return Array.from({ length: maxPoints }, (_, i) => points[Math.round(i * step)]);
}

/** The attack's summary from per-row mean token losses of training rows (members) and held-out rows. */
export function membershipInference(memberLosses: readonly number[], nonMemberLosses: readonly number[], fprTargets: readonly number[] = [0.01, 0.1]): MembershipInference {
  const pos = memberLosses.map((l) => -l);
  const neg = nonMemberLosses.map((l) => -l);
  const auc = rocAuc(pos, neg);
  const se = aucStdError(pos, neg);
  return {
    score: 'negative mean token loss',
    members: pos.length,
    nonMembers: neg.length,
    auc,
    auc95: [Math.max(0, auc - Z_975 * se), Math.min(1, auc + Z_975 * se)],
    aucStdError: se,
    tprAtFpr: fprTargets.map((targetFpr) => {
      const r = tprAtFpr(pos, neg, targetFpr);
      return {
        targetFpr,
        lossThreshold: -r.threshold,
        truePositives: r.truePositives,
        falsePositives: r.falsePositives,
        members: pos.length,
        nonMembers: neg.length,
        tpr: r.truePositives / pos.length,
        fpr: r.falsePositives / neg.length,
      };
    }),
    roc: rocCurve(pos, neg),
    meanLoss: { members: mean(memberLosses), nonMembers: mean(nonMemberLosses) },
  };
}

function checkScores(positives: readonly number[], negatives: readonly number[]): void {
  if (positives.length === 0 || negatives.length === 0) throw new RangeError(`membership inference needs both classes (got ${positives.length} members, ${negatives.length} non-members)`);
  for (const s of [...positives, ...negatives]) if (Number.isNaN(s)) throw new RangeError('membership inference: a score is NaN');
}

/** Number of values < x in an ascending array. */
function countBelow(sorted: readonly number[], x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function countEqual(sorted: readonly number[], x: number): number {
  let lo = countBelow(sorted, x);
  let n = 0;
  while (lo < sorted.length && sorted[lo] === x) {
    n++;
    lo++;
  }
  return n;
}

function mean(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

function sampleVariance(values: readonly number[]): number {
  if (values.length < 2) return 0;
  const mu = mean(values);
  return values.reduce((a, v) => a + (v - mu) ** 2, 0) / (values.length - 1);
}
