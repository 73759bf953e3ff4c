// What the privacy audit costs, measured side by side in one run on this machine:
//   row losses of the same rows by three engines — the in-graph SequenceScorer, a Gpt2Model's
//   batched logits with the log-sum-exp in JavaScript, and the former one-row-at-a-time rowLoss
//   (sequenceLogits + JS log-sum-exp) — with their ratios;
//   then the whole audit (extraction, 1,200-candidate canary, membership) with its phase times.
//
//   node --import tsx bench/audit/audit-runtime.ts [--size tiny] [--rows 64] [--per-row 16] [--audit-rows 200]
// --size gpt2 gives GPT-2-small shapes (random weights; minutes on 2 cores).
import { parseArgs } from 'node:util';
import { PLANTED_SECRET, SECRET_PREFIX, generatePatientNotes } from '../../clients/demo/patient-notes.ts';
import { SequenceScorer, rowLosses, runPrivacyAudit } from '../../engine/audit/index.ts';
import { Gpt2Model, openCheckpoint } from '../../engine/gpt2/index.ts';
import { END_OF_TEXT_ID, encode } from '../../engine/tokenizer/gpt2-tokenizer.ts';

const { values } = parseArgs({
  options: {
    size: { type: 'string', default: 'tiny' },
    rows: { type: 'string', default: '64' },
    'per-row': { type: 'string', default: '16' },
    'audit-rows': { type: 'string', default: '200' },
  },
});

/** The former rowLoss of activities/training/evaluate.ts: one unbatched forward per row, log-sum-exp in JS. */
async function unbatchedRowLoss(model: Gpt2Model, ids: readonly number[]): Promise<number> {
  const V = model.config.vocabSize;
  const logits = await model.sequenceLogits(ids);
  let total = 0;
  for (let t = 0; t + 1 < ids.length; t++) {
    const row = logits.subarray(t * V, (t + 1) * V);
    let max = -Infinity;
    for (let v = 0; v < V; v++) if (row[v] > max) max = row[v];
    let sum = 0;
    for (let v = 0; v < V; v++) sum += Math.exp(row[v] - max);
    total += max + Math.log(sum) - row[ids[t + 1]];
  }
  return total / (ids.length - 1);
}

async function timed<T>(f: () => Promise<T>): Promise<[T, number]> {
  const t = performance.now();
  const out = await f();
  return [out, (performance.now() - t) / 1000];
}

const checkpoint = await openCheckpoint(`random:${values.size}@bench-audit`);
const generator = await Gpt2Model.create(checkpoint);
const scorer = await SequenceScorer.create(checkpoint);
const notes = generatePatientNotes({ rows: 2 * Number(values['audit-rows']) + Number(values.rows), seed: 'bench-audit' }).map((r) => [...encode(r.note), END_OF_TEXT_ID]);
const rows = notes.slice(0, Number(values.rows));
const perRow = rows.slice(0, Number(values['per-row']));
const tokens = rows.reduce((n, r) => n + r.length, 0);
console.log(`GPT-2 '${values.size}', ${rows.length} rows, ${tokens} tokens (mean ${(tokens / rows.length).toFixed(1)})`);

await rowLosses(scorer, rows.slice(0, 2)); // session warm-up for both engines
await rowLosses(generator, rows.slice(0, 2));
const [, scorerS] = await timed(() => rowLosses(scorer, rows));
const [, modelS] = await timed(() => rowLosses(generator, rows));
const [, unbatchedS] = await timed(async () => {
  for (const r of perRow) await unbatchedRowLoss(generator, r);
});
const perRowMs = (s: number, n: number) => ((1000 * s) / n).toFixed(1);
console.log(`row losses, ms per row: SequenceScorer ${perRowMs(scorerS, rows.length)}, Gpt2Model batched ${perRowMs(modelS, rows.length)}, unbatched (former rowLoss, ${perRow.length} rows) ${perRowMs(unbatchedS, perRow.length)}`);
console.log(`ratios: batched-logits ÷ scorer ${(modelS / scorerS).toFixed(1)}×, unbatched ÷ scorer ${(unbatchedS / perRow.length / (scorerS / rows.length)).toFixed(1)}×`);

const auditRows = notes.slice(Number(values.rows));
const half = auditRows.length / 2;
const [audit, totalS] = await timed(() => runPrivacyAudit({ generator, scorer }, {
  canaries: [{ prompt: SECRET_PREFIX, secret: PLANTED_SECRET }],
  trainRows: auditRows.slice(0, half),
  testRows: auditRows.slice(half),
}));
const t = audit.timingsMs;
const [canary] = audit.ownerCanaries;
console.log(`audit: extraction ${(t.extraction / 1000).toFixed(2)} s, canary exposure ${(t.canary / 1000).toFixed(2)} s (${canary.exposure.candidates} candidates), membership ${(t.membership / 1000).toFixed(2)} s (${audit.membership.members}+${audit.membership.nonMembers} rows), total ${totalS.toFixed(2)} s`);
await generator.release();
await scorer.release();
