// Printing the demo's outcome: the two models side by side (ε, held-out loss, how many
// completions of the secret's prefix give the secret back, the audit's numbers), then their
// samples, so a reader can check that the audit agrees with what the samples show.
import type { AuditSummary } from '../../engine/audit/index.ts';
import type { FineTuneResult } from '../../contracts/fine-tune.ts';
import type { SampleResult } from '../../contracts/sample.ts';
import { PLANTED_SECRET, SECRET_PREFIX } from './patient-notes.ts';
import type { AuditShare } from './audit-share.ts';

export interface DemoSide {
  title: string;
  result: FineTuneResult;
  samples: SampleResult;
  /** The data owner's audit summary (membership inference is not in the analyst's). */
  ownerAudit: AuditSummary | null;
  /** The audit's share of the job's wall time, from its history. */
  auditShare?: AuditShare | null;
}

const SECRET_REST = PLANTED_SECRET.slice(SECRET_PREFIX.length).trim(); // "from a severe form of pancreatic cancer"

/** Completions of the prefix that give back the secret's rare fact (its disease). */
export function leaks(side: DemoSide): { full: number; disease: number; of: number } {
  const completions = side.samples.samples.filter((s) => s.prompt === SECRET_PREFIX);
  return {
    full: completions.filter((s) => s.text.includes(SECRET_REST)).length,
    disease: completions.filter((s) => /pancreatic cancer/i.test(s.text)).length,
    of: completions.length,
  };
}

function eps(r: FineTuneResult): string {
  return typeof r.epsilon === 'number' ? `${r.epsilon.toFixed(2)} (δ=${r.delta?.toExponential(1)})` : 'unlimited (no DP)';
}

function row(label: string, a: string, b: string): string {
  return `  ${label.padEnd(34)} ${a.padEnd(30)} ${b}`;
}

export function printComparison(sides: [DemoSide, DemoSide], log: (line: string) => void): { leakWithoutDp: number; leakWithDp: number } {
  const [a, b] = sides;
  const [la, lb] = [leaks(a), leaks(b)];
  const audit = (s: DemoSide) => s.result.audit;
  const fmt = (s: DemoSide, f: (x: NonNullable<FineTuneResult['audit']>) => string) => (audit(s) ? f(audit(s)!) : 'audit missing');
  log('');
  log(row('', a.title, b.title));
  log(row('ε spent', eps(a.result), eps(b.result)));
  log(row('held-out loss / perplexity', `${a.result.evaluation?.testLoss.toFixed(2)} / ${a.result.evaluation?.perplexity.toFixed(1)}`, `${b.result.evaluation?.testLoss.toFixed(2)} / ${b.result.evaluation?.perplexity.toFixed(1)}`));
  log(row(`"${SECRET_PREFIX}" → secret`, `${la.full}/${la.of} completions`, `${lb.full}/${lb.of} completions`));
  // Per-canary results are the data owner's: read from the owner's summary of the audit.
  const canary = (s: DemoSide, f: (c: NonNullable<AuditSummary['ownerCanaries']['details'][number]>) => string) => {
    const c = s.ownerAudit?.ownerCanaries.details[0];
    return c ? f(c) : 'no owner canary';
  };
  log(row('audit: extraction (owner canary) *', canary(a, (c) => `${c.fullMatches}/${c.completions}, greedy ${c.greedyContainsSecret ? 'leaks' : 'safe'}`), canary(b, (c) => `${c.fullMatches}/${c.completions}, greedy ${c.greedyContainsSecret ? 'leaks' : 'safe'}`)));
  log(row('audit: canary exposure *', canary(a, (c) => `${c.exposureBits.toFixed(1)} of ${c.maxExposureBits.toFixed(1)} bits (rank ${c.rank}/${c.candidates})`), canary(b, (c) => `${c.exposureBits.toFixed(1)} of ${c.maxExposureBits.toFixed(1)} bits (rank ${c.rank}/${c.candidates})`)));
  const bound = (x: NonNullable<FineTuneResult['audit']>) => (x.oneRun ? `ε ≥ ${x.oneRun.epsilonLowerBound.toFixed(2)} (${x.oneRun.canaries} canaries, 95%)${x.failed ? ' AUDIT FAILED' : ''}` : 'no inserted canaries');
  log(row('audit: empirical ε lower bound', fmt(a, bound), fmt(b, bound)));
  const auc = (s: DemoSide) => (s.ownerAudit ? s.ownerAudit.membership.auc.toFixed(3) : 'audit missing');
  log(row('audit: membership-inference AUC *', auc(a), auc(b)));
  const share = (s: DemoSide) => (s.auditShare ? `${s.auditShare.auditSeconds.toFixed(0)} s of ${s.auditShare.jobSeconds.toFixed(0)} s (${((100 * s.auditShare.auditSeconds) / s.auditShare.jobSeconds).toFixed(0)}%)` : 'not measured');
  log(row("audit's share of the job's time", share(a), share(b)));
  log('  * from the data owner\'s audit report: per-canary results and membership inference are not in a DP model\'s analyst view');
  for (const side of sides) {
    log('');
    log(`== ${side.title}: model ${side.result.modelId}, ${side.result.message}`);
    log(`   completions of "${SECRET_PREFIX}":`);
    for (const s of side.samples.samples.filter((x) => x.prompt === SECRET_PREFIX)) log(`     ${JSON.stringify(s.text)}`);
    log('   unconditional notes:');
    for (const s of side.samples.samples.filter((x) => x.prompt === '')) log(`     ${JSON.stringify(s.text.trim())}`);
    log(`   full audit report (data owner only): audits/${side.result.modelId}/audit.html in S3`);
  }
  return { leakWithoutDp: la.full, leakWithDp: lb.full };
}
