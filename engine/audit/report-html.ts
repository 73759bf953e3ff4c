// audit.html: one self-contained page (inline CSS and SVG, no script, no external asset) that a
// data owner can open offline or attach to a review: the findings, the empirical ε lower bound
// next to the reported ε, the owner's canaries (extraction, exposure histograms) and membership
// inference (train/held-out loss distributions, ROC).
import type { AuditDocument } from './report.ts';
import { escapeXml as esc, histogramSvg, rocSvg } from './svg-charts.ts';

const TRAIN = '#d9480f';
const TEST = '#1c7ed6';
const CANDIDATES = '#5c7cfa';
const SECRET = '#c92a2a';

function epsilonText(doc: AuditDocument): string {
  const { epsilon, delta } = doc.model;
  return epsilon === 'unlimited' ? 'not differentially private (ε = ∞)' : `ε = ${epsilon.toFixed(2)}, δ = ${delta === null ? '—' : delta.toExponential(1)}`;
}

function card(title: string, value: string, note: string, alarm: boolean): string {
  return `<div class="card${alarm ? ' alarm' : ''}"><div class="t">${esc(title)}</div><div class="v">${esc(value)}</div><div class="n">${esc(note)}</div></div>`;
}

/** Horizontal bars: the one-run lower bound against the reported ε (∞ drawn as an open bar). */
function epsilonSvg(doc: AuditDocument): string {
  const o = doc.oneRun;
  if (!o) return '';
  const reported = doc.model.epsilon;
  const top = Math.max(1, o.epsilonLowerBound, reported === 'unlimited' ? 0 : reported) * 1.15;
  const width = 460;
  const plot = 300;
  const bar = (y: number, label: string, value: number | null, color: string, text: string) => {
    const w = value === null ? plot : Math.max(1, (value / top) * plot);
    return `<text x="8" y="${y + 16}" font-size="12">${esc(label)}</text><rect x="140" y="${y}" width="${w.toFixed(1)}" height="22" fill="${value === null ? 'none' : color}" stroke="${color}"${value === null ? ' stroke-dasharray="4 3"' : ''}/><text x="${(146 + Math.min(w, plot - 60)).toFixed(1)}" y="${y + 16}" font-size="12">${esc(text)}</text>`;
  };
  const failed = doc.summary.failed;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="110" role="img"><text x="8" y="16" font-size="13" font-weight="600">ε: empirical lower bound vs reported</text>
${bar(30, `lower bound (${Math.round(o.confidence * 100)}%)`, o.epsilonLowerBound, failed ? SECRET : CANDIDATES, o.epsilonLowerBound.toFixed(2))}
${bar(66, 'reported ε', reported === 'unlimited' ? null : reported, TEST, reported === 'unlimited' ? '∞ (no DP)' : reported.toFixed(2))}
</svg>`;
}

function ownerCanaryRows(doc: AuditDocument): string {
  return doc.ownerCanaries
    .map((c) => {
      const x = c.extraction;
      const e = c.exposure;
      const sampled = x.sampled.filter((s) => s.containsSecret).length;
      const verdict = (hit: boolean) => (hit ? '<span class="bad">secret</span>' : '<span class="ok">no</span>');
      return `<tr><td class="mono">${esc(c.prompt)}</td><td>${verdict(x.greedy.containsSecret)}</td><td class="mono">${esc(x.greedy.text)}</td><td>${sampled} / ${x.sampled.length}</td><td>${e.rank} / ${e.candidates}</td><td>${e.exposureBits.toFixed(1)} of ${e.maxExposureBits.toFixed(1)}</td></tr>`;
    })
    .join('\n');
}

function exposureCharts(doc: AuditDocument): string {
  return doc.ownerCanaries
    .map((c) =>
      histogramSvg({
        title: `Exposure of "${c.prompt} …": ${c.exposure.candidates} alternatives`,
        edges: c.exposure.histogram.edges,
        series: [{ label: 'alternatives', color: CANDIDATES, counts: c.exposure.histogram.counts }],
        xLabel: '−log Pr(continuation | prompt) (nats; lower = more likely)',
        yLabel: 'alternatives',
        marker: { x: c.exposure.secretLogPerplexity, label: `secret: rank ${c.exposure.rank}`, color: SECRET },
      }),
    )
    .join('\n');
}

export function renderAuditHtml(doc: AuditDocument): string {
  const m = doc.membership;
  const o = doc.oneRun;
  const sum = doc.summary;
  const at1 = m.tprAtFpr.find((r) => r.targetFpr === 0.01);
  const cards = [
    card('ε lower bound', o ? o.epsilonLowerBound.toFixed(2) : '—', o ? `${o.canaries} inserted canaries, ${Math.round(o.confidence * 100)}% confidence` : 'no inserted canaries', sum.failed),
    card('Owner canaries leaked', `${sum.ownerCanaries.anyLeaks} / ${sum.ownerCanaries.count}`, `greedy: ${sum.ownerCanaries.greedyLeaks}`, sum.ownerCanaries.anyLeaks > 0),
    card('Membership AUC', m.auc.toFixed(3), `95% ${m.auc95[0].toFixed(3)}–${m.auc95[1].toFixed(3)}`, m.auc95[0] > 0.5),
    card('TPR at 1% FPR', at1 ? `${(100 * at1.tpr).toFixed(1)}%` : '—', at1 ? `${at1.truePositives} of ${at1.members} members, ${at1.falsePositives} of ${at1.nonMembers} false` : '', at1 !== undefined && at1.tpr > 0.05),
  ].join('\n');
  const lossChart = histogramSvg({
    title: 'Mean token loss per row: training rows vs held-out rows',
    edges: m.histogram.edges,
    series: [
      { label: `training (${m.members})`, color: TRAIN, counts: m.histogram.members },
      { label: `held-out (${m.nonMembers})`, color: TEST, counts: m.histogram.nonMembers },
    ],
    xLabel: 'mean token cross-entropy (nats)',
    yLabel: 'rows',
  });
  const roc = rocSvg('ROC of the loss-threshold attack', m.roc, TRAIN);
  const plans = o ? o.plans.map((p) => `${p.correct}/${p.guesses} right → ε ≥ ${p.epsilonLowerBound.toFixed(2)}`).join('; ') : '';
  const timings = Object.entries(doc.timingsMs).map(([k, v]) => `${k} ${(v / 1000).toFixed(1)} s`).join(' · ');
  const canariesSection = doc.ownerCanaries.length
    ? `<table><tr><th>prompt</th><th>greedy</th><th>greedy completion</th><th>sampled with secret</th><th>rank</th><th>exposure (bits)</th></tr>
${ownerCanaryRows(doc)}
</table>
<div class="charts">
${exposureCharts(doc)}
</div>`
    : '<p>No canaries are registered for this dataset (<span class="mono">veil datasets canaries add</span>).</p>';
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Privacy audit — ${esc(doc.model.modelId)}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 24px auto; max-width: 1180px; color: #212529; padding: 0 16px; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 16px; margin: 28px 0 8px; }
.sub { color: #555; margin-bottom: 12px; } .access { background: #fff4e6; border: 1px solid #ffc078; padding: 8px 12px; border-radius: 6px; font-size: 13px; }
.cards { display: flex; gap: 12px; flex-wrap: wrap; margin: 16px 0; }
.card { flex: 1 1 200px; border: 1px solid #ced4da; border-radius: 8px; padding: 10px 14px; }
.card.alarm { border-color: #e03131; background: #fff5f5; }
.card .t { font-size: 12px; color: #555; text-transform: uppercase; letter-spacing: .04em; } .card .v { font-size: 26px; font-weight: 650; } .card .n { font-size: 12px; color: #555; }
.charts { display: flex; flex-wrap: wrap; gap: 16px; } .charts svg { border: 1px solid #e9ecef; border-radius: 6px; background: #fff; }
table { border-collapse: collapse; font-size: 13px; } td, th { border-bottom: 1px solid #e9ecef; padding: 4px 10px; text-align: left; vertical-align: top; }
.mono { font-family: ui-monospace, monospace; } .bad { color: #c92a2a; font-weight: 600; } .warn { color: #e8590c; } .ok { color: #2b8a3e; }
tr.secret td { background: #ffe3e3; font-weight: 600; } ul.findings li { margin: 4px 0; } .foot { color: #777; font-size: 12px; margin-top: 24px; }
</style>
</head>
<body>
<h1>Privacy audit of model ${esc(doc.model.modelId)}</h1>
<div class="sub">${esc(epsilonText(doc))}${doc.model.base ? ` · base ${esc(doc.model.base)}` : ''}${doc.model.dataset ? ` · dataset ${esc(doc.model.dataset.name)} v${doc.model.dataset.version}` : ''} · audited ${esc(doc.createdAt)}</div>
<div class="access"><b>Data owner only.</b> ${esc(doc.access.why)} Analysts see: ${esc(doc.access.analystView)}</div>
<div class="cards">
${cards}
</div>
<ul class="findings">
${doc.findings.map((f) => `<li>${esc(f)}</li>`).join('\n')}
</ul>
<h2>Empirical ε (one-run audit, Steinke, Nasr &amp; Jagielski 2023)</h2>
<div class="charts">${o ? epsilonSvg(doc) : '<p>No inserted canaries (fine-tune with audit.insertCanaries).</p>'}</div>
${o ? `<p style="font-size:13px">Guesses from the inserted canaries' losses (lowest called trained on, highest not): ${esc(plans)}; each plan tested at ${((1 - o.confidence) / o.plans.length * 100).toFixed(2)}% (Bonferroni), δ = ${o.delta.toExponential(1)}. Mean loss: trained-on ${o.meanLoss.included.toFixed(2)}, left out ${o.meanLoss.excluded.toFixed(2)} nats.</p>` : ''}
<h2>The data owner's canaries: extraction and exposure</h2>
${canariesSection}
<h2>Membership inference</h2>
<div class="charts">
${lossChart}
${roc}
</div>
<div class="foot">Exposure: Carlini et al. 2019 (log₂|R| − log₂ rank). Membership: loss-threshold attack, AUC of −loss with DeLong's interval, TPR at a threshold set on the held-out rows. Timings: ${esc(timings)}. Seed “${esc(doc.settings.seed)}”.</div>
</body>
</html>
`;
}
