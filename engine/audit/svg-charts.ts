// Two small inline-SVG charts for the audit page: overlaid histograms (with an optional vertical
// marker) and a ROC curve. Plain strings, no library: the page must open anywhere, offline.

export interface HistogramSeries {
  label: string;
  color: string;
  counts: readonly number[];
}

export interface HistogramChart {
  title: string;
  edges: readonly number[];
  series: readonly HistogramSeries[];
  xLabel: string;
  yLabel?: string;
  /** A vertical line at x with a label (e.g. where the secret falls). */
  marker?: { x: number; label: string; color: string };
}

const W = 560;
const H = 310;
const M = { left: 56, right: 16, top: 48, bottom: 46 };
const PW = W - M.left - M.right;
const PH = H - M.top - M.bottom;

export function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** About `count` round tick values covering [lo, hi]. */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((f) => f * mag).find((s) => s >= raw) ?? 10 * mag;
  const out: number[] = [];
  // Multiples of the step, computed from an integer index so that 0.1 + 0.2 drift cannot creep in.
  for (let k = Math.ceil(lo / step - 1e-9); k * step <= hi + step * 1e-9; k++) out.push(Number((k * step).toPrecision(12)));
  return out;
}

/** Enough decimals to tell ticks `step` apart. */
function fmt(v: number, step: number): string {
  const decimals = step > 0 ? Math.min(6, Math.max(0, -Math.floor(Math.log10(step) + 1e-9))) : 2;
  return v.toFixed(decimals);
}

function tickStep(ticks: readonly number[]): number {
  return ticks.length > 1 ? ticks[1] - ticks[0] : 1;
}

function frame(title: string, xLabel: string, yLabel: string, body: string, legend: string): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${escapeXml(title)}" font-family="system-ui, sans-serif" font-size="11">`,
    `<text x="${M.left}" y="16" font-size="13" font-weight="600">${escapeXml(title)}</text>`,
    body,
    `<line x1="${M.left}" y1="${M.top + PH}" x2="${M.left + PW}" y2="${M.top + PH}" stroke="#333"/>`,
    `<line x1="${M.left}" y1="${M.top}" x2="${M.left}" y2="${M.top + PH}" stroke="#333"/>`,
    `<text x="${M.left + PW / 2}" y="${H - 8}" text-anchor="middle">${escapeXml(xLabel)}</text>`,
    `<text transform="translate(14 ${M.top + PH / 2}) rotate(-90)" text-anchor="middle">${escapeXml(yLabel)}</text>`,
    legend,
    '</svg>',
  ].join('\n');
}

/** A row of swatches under the title. */
function legendOf(items: readonly { label: string; color: string }[]): string {
  let x = M.left;
  const parts: string[] = [];
  for (const item of items) {
    parts.push(`<rect x="${x.toFixed(1)}" y="24" width="12" height="12" fill="${item.color}" fill-opacity="0.55" stroke="${item.color}"/>`);
    parts.push(`<text x="${(x + 16).toFixed(1)}" y="34">${escapeXml(item.label)}</text>`);
    x += 16 + item.label.length * 6.2 + 14;
  }
  return parts.join('\n');
}

export function histogramSvg(chart: HistogramChart): string {
  const { edges } = chart;
  const lo = Math.min(edges[0], chart.marker?.x ?? Infinity);
  const hi = Math.max(edges[edges.length - 1], chart.marker?.x ?? -Infinity);
  const maxCount = Math.max(1, ...chart.series.flatMap((s) => [...s.counts]));
  const sx = (v: number) => M.left + ((v - lo) / (hi - lo || 1)) * PW;
  const sy = (c: number) => M.top + PH - (c / maxCount) * PH;
  const parts: string[] = [];
  const yTicks = niceTicks(0, maxCount, 4).filter((t) => Number.isInteger(t));
  for (const t of yTicks) {
    parts.push(`<line x1="${M.left}" y1="${sy(t).toFixed(1)}" x2="${M.left + PW}" y2="${sy(t).toFixed(1)}" stroke="#e4e4e4"/>`);
    parts.push(`<text x="${M.left - 6}" y="${(sy(t) + 4).toFixed(1)}" text-anchor="end">${t}</text>`);
  }
  const xTicks = niceTicks(lo, hi, 6);
  const xStep = tickStep(xTicks);
  for (const t of xTicks) {
    parts.push(`<line x1="${sx(t).toFixed(1)}" y1="${M.top + PH}" x2="${sx(t).toFixed(1)}" y2="${M.top + PH + 4}" stroke="#333"/>`);
    parts.push(`<text x="${sx(t).toFixed(1)}" y="${M.top + PH + 16}" text-anchor="middle">${fmt(t, xStep)}</text>`);
  }
  for (const s of chart.series) {
    s.counts.forEach((c, i) => {
      if (c === 0) return;
      const x0 = sx(edges[i]);
      const x1 = sx(edges[i + 1]);
      parts.push(`<rect x="${x0.toFixed(1)}" y="${sy(c).toFixed(1)}" width="${Math.max(0.5, x1 - x0 - 0.5).toFixed(1)}" height="${(M.top + PH - sy(c)).toFixed(1)}" fill="${s.color}" fill-opacity="0.5" stroke="${s.color}" stroke-width="0.6"><title>${escapeXml(s.label)}: ${c} in [${edges[i].toPrecision(4)}, ${edges[i + 1].toPrecision(4)})</title></rect>`);
    });
  }
  if (chart.marker) {
    const x = sx(chart.marker.x).toFixed(1);
    parts.push(`<line x1="${x}" y1="${M.top}" x2="${x}" y2="${M.top + PH}" stroke="${chart.marker.color}" stroke-width="2" stroke-dasharray="5 3"/>`);
    const anchor = sx(chart.marker.x) > M.left + PW * 0.7 ? 'end' : 'start';
    const dx = anchor === 'end' ? -5 : 5;
    parts.push(`<text x="${(Number(x) + dx).toFixed(1)}" y="${M.top + 12}" text-anchor="${anchor}" fill="${chart.marker.color}" font-weight="600">${escapeXml(chart.marker.label)}</text>`);
  }
  return frame(chart.title, chart.xLabel, chart.yLabel ?? 'count', parts.join('\n'), legendOf(chart.series));
}

export function rocSvg(title: string, points: readonly (readonly [number, number])[], color: string): string {
  const sx = (v: number) => M.left + v * PW;
  const sy = (v: number) => M.top + PH - v * PH;
  const parts: string[] = [];
  for (const t of [0, 0.25, 0.5, 0.75, 1]) {
    parts.push(`<line x1="${M.left}" y1="${sy(t)}" x2="${M.left + PW}" y2="${sy(t)}" stroke="#e4e4e4"/>`);
    parts.push(`<text x="${M.left - 6}" y="${sy(t) + 4}" text-anchor="end">${t}</text>`);
    parts.push(`<text x="${sx(t)}" y="${M.top + PH + 16}" text-anchor="middle">${t}</text>`);
  }
  parts.push(`<line x1="${sx(0)}" y1="${sy(0)}" x2="${sx(1)}" y2="${sy(1)}" stroke="#999" stroke-dasharray="4 4"/>`);
  const path = points.map(([f, t], i) => `${i === 0 ? 'M' : 'L'}${sx(f).toFixed(1)},${sy(t).toFixed(1)}`).join(' ');
  parts.push(`<path d="${path}" fill="none" stroke="${color}" stroke-width="2"/>`);
  return frame(title, 'false positive rate (held-out rows called members)', 'true positive rate', parts.join('\n'), legendOf([{ label: 'loss attack', color }, { label: 'chance', color: '#999' }]));
}
