// String columns: free text, or structured strings (JSON objects, dates, ids) whose shape the
// preview must keep, so that code written on the preview (a split on `text":`, a date parser)
// runs on the real rows too.
//
// The shape is itself a DP release: a noisy histogram over public shape bins (string-shapes.ts)
// spends a small part of the column's allowance; the winning group decides which model the rest
// of the allowance fits (budget.ts explains why that adaptive choice composes). Free text stays
// the default: a structured group wins only if its noisy count is clearly above the noise.
import { noisyHistogram } from './noisy-release.ts';
import { splitAllowance, type Allowance, type BudgetLedger, type ColumnSchema } from './budget.ts';
import { sampleIndex, type RandomSource } from './random-source.ts';
import { TextCollector, TextSampler, type TextModel } from './text-model.ts';
import { fitDates, sampleDate } from './date-model.ts';
import { fitPatterns, samplePattern } from './pattern-model.ts';
import { fitJson, JsonSampler } from './json-model.ts';
import type { StringFitOptions, StringModel } from './structured-models.ts';

export type { StringFitOptions, StringModel };
import { groupOf, parseObject, SHAPES, shapeOf, type Shape, type ShapeGroup } from './string-shapes.ts';
import { JSON_STYLES, type JsonStyle } from './json-style.ts';

/** The share of a string column's allowance that buys the shape histogram. */
const SHAPES_WEIGHT = 0.05;
/** A structured group must beat this many noise standard deviations to be chosen over text. */
const STRUCTURE_MARGIN_SIGMAS = 4;

function fitText(values: readonly unknown[], column: ColumnSchema, allowance: Allowance, rng: RandomSource, ledger: BudgetLedger): TextModel {
  const collector = new TextCollector(column);
  for (const v of values) collector.add(v);
  return collector.fit(allowance, rng, ledger);
}

function chooseGroup(counts: readonly number[], sigma: number): ShapeGroup {
  const groups = new Map<ShapeGroup, { count: number; bins: number }>();
  SHAPES.forEach((shape, i) => {
    const g = groupOf(shape);
    if (g === 'null') return;
    const entry = groups.get(g) ?? { count: 0, bins: 0 };
    groups.set(g, { count: entry.count + counts[i], bins: entry.bins + 1 });
  });
  let best: ShapeGroup = 'text';
  for (const [g, { count }] of groups) if (count > groups.get(best)!.count) best = g;
  const winner = groups.get(best)!;
  return best !== 'text' && winner.count > STRUCTURE_MARGIN_SIGMAS * sigma * Math.sqrt(winner.bins) ? best : 'text';
}

function chooseStyle(counts: readonly number[]): JsonStyle {
  let best: JsonStyle = 'python';
  let bestCount = -Infinity;
  for (const style of JSON_STYLES) {
    const c = counts[SHAPES.indexOf(`json-${style}`)];
    if (c > bestCount) [best, bestCount] = [style, c];
  }
  return best;
}

/** Fits a string column (or the string values of a JSON key). Values that are not strings count
 * as text. The exact values never leave this function. */
export function fitString(values: readonly unknown[], allowance: Allowance, rng: RandomSource, ledger: BudgetLedger, options: StringFitOptions): StringModel {
  const shapes: Shape[] = values.map((v) => shapeOf(v, options.allowJson));
  const [forShapes, forModel] = splitAllowance(allowance, [{ name: '', weight: SHAPES_WEIGHT }, { name: '', weight: 1 - SHAPES_WEIGHT }]);
  const binCounts = new Float64Array(SHAPES.length);
  for (const s of shapes) binCounts[SHAPES.indexOf(s)]++;
  const shapesRelease = ledger.gaussian(forShapes, 'shapes');
  const noisy = noisyHistogram(binCounts, shapesRelease.sigma, rng);
  const group = chooseGroup(noisy, shapesRelease.sigma);
  const inGroup = (i: number) => groupOf(shapes[i]) === group;
  const strings = values.filter((v, i) => inGroup(i) && typeof v === 'string') as string[];
  switch (group) {
    case 'text': return { kind: 'string', shapes: noisy, group, model: fitText(values, options.column, forModel, rng, ledger) };
    case 'date': return { kind: 'string', shapes: noisy, group, model: fitDates(strings, forModel, rng, ledger) };
    case 'pattern': return { kind: 'string', shapes: noisy, group, model: fitPatterns(strings, forModel, rng, ledger) };
    case 'json': {
      const objects = strings.map((s) => parseObject(s)!);
      const model = fitJson(objects, chooseStyle(noisy), forModel, rng, ledger, { column: options.column, fitString });
      return { kind: 'string', shapes: noisy, group, model };
    }
  }
}

/** Samples values of a fitted string model; builds its lookup tables once. */
export class StringSampler {
  private readonly sampleValue: () => string | null;
  private readonly nullShare: number;

  constructor(private readonly model: StringModel, private readonly rng: RandomSource) {
    const m = model.model;
    switch (m.kind) {
      case 'text': { const s = new TextSampler(m); this.sampleValue = () => s.sample(rng); break; }
      case 'date': this.sampleValue = () => sampleDate(m, rng); break;
      case 'pattern': this.sampleValue = () => samplePattern(m, rng); break;
      case 'json': { const s = new JsonSampler(m, rng, (sub) => new StringSampler(sub, rng)); this.sampleValue = () => s.sample(); break; }
    }
    // The text model counts its nulls itself; the other models take them from the shapes.
    const positive = (i: number) => Math.max(0, model.shapes[i]);
    const nulls = positive(SHAPES.indexOf('null'));
    const present = SHAPES.reduce((s, shape, i) => s + (groupOf(shape) === model.group ? positive(i) : 0), 0);
    this.nullShare = m.kind === 'text' || nulls + present <= 0 ? 0 : nulls / (nulls + present);
  }

  sample(): string | null {
    if (this.nullShare > 0 && sampleIndex([this.nullShare, 1 - this.nullShare], 1, this.rng) === 0) return null;
    return this.sampleValue();
  }
}
