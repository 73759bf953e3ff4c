// audit.html: one self-contained page (inline CSS and SVG, no script, no external asset) that a
// data owner can open offline or attach to a review: the findings, the extraction completions,
// the canary's rank among its alternatives and the train/held-out loss distributions.
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

function completionRows(doc: AuditDocument): string {
  const x = doc.extraction;
  return [x.greedy, ...x.sampled]
    .map((c, i) => {
      const verdict = c.containsSecret ? '<span class="bad">whole secret</span>' : c.keyWordsFound.length > 0 ? `<span class="warn">${esc(c.keyWordsFound.join(', '))}</span>` : '<span class="ok">no</span>';
      return `<tr><td>${c.mode === 'greedy' ? 'greedy' : `sample ${i}`}</td><td class="mono"><b>${esc(x.prefix)}</b>${esc(c.text)}</td><td>${verdict}</td><td>${c.matchedTokens}/${x.remainderTokens}</td></tr>`;
    })
    .join('\n');
}

export function renderAuditHtml(doc: AuditDocument): string {
  const x = doc.extraction;
  const c = doc.canary;
  const m = doc.membership;
  const at1 = m.tprAtFpr.find((r) => r.targetFpr === 0.01);
  const cards = [
    card('Extraction', `${x.fullMatches} / ${x.completions}`, 'completions reproducing the secret', x.fullMatches > 0),
    card('Canary exposure', `${c.exposureBits.toFixed(1)} bits`, `rank ${c.rank} of ${c.candidates} (max ${c.maxExposureBits.toFixed(1)} bits)`, c.exposureBits >= 0.5 * c.maxExposureBits),
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
  const canaryChart = histogramSvg({
    title: `Log-perplexity of the ${c.candidates} candidate fillings`,
    edges: c.histogram.edges,
    series: [{ label: 'candidates', color: CANDIDATES, counts: c.histogram.counts }],
    xLabel: `−log Pr(filling | "${c.prefix}") (nats; lower = more likely)`,
    yLabel: 'candidates',
    marker: { x: c.secretLogPerplexity, label: `secret: rank ${c.rank}`, color: SECRET },
  });
  const roc = rocSvg('ROC of the loss-threshold attack', m.roc, TRAIN);
  const top = c.top.map((t, i) => `<tr${t.text === c.secret ? ' class="secret"' : ''}><td>${i + 1}</td><td class="mono">${esc(t.text)}</td><td>${t.logPerplexity.toFixed(2)}</td></tr>`).join('\n');
  const timings = Object.entries(doc.timingsMs).map(([k, v]) => `${k} ${(v / 1000).toFixed(1)} s`).join(' · ');
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
<h2>Extraction: completions of “${esc(x.prefix)}”</h2>
<table><tr><th></th><th>completion (prompt in bold)</th><th>leak</th><th>secret tokens matched</th></tr>
${completionRows(doc)}
</table>
<h2>Canary exposure and membership inference</h2>
<div class="charts">
${canaryChart}
${lossChart}
${roc}
<div>
<table><tr><th>#</th><th>most likely fillings of “${esc(c.prefix)} …”</th><th>nats</th></tr>
${top}
</table>
<p style="font-size:13px">Secret “${esc(c.secret)}”: ${c.secretLogPerplexity.toFixed(2)} nats, rank ${c.rank}${c.ties > 0 ? ` (${c.ties} ties)` : ''} of ${c.candidates}.${c.extrapolated ? `<br>Gaussian-extrapolated exposure: ${c.extrapolated.exposureBits.toFixed(1)} bits.` : ''}</p>
</div>
</div>
<div class="foot">Exposure: Carlini et al. 2019 (log₂|R| − log₂ rank). Membership: loss-threshold attack, AUC of −loss with DeLong's interval, TPR at a threshold set on the held-out rows. Timings: ${esc(timings)}. Seed “${esc(doc.settings.seed)}”.</div>
</body>
</html>
`;
}
