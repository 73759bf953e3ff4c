// The shapes a string value can have, as public bins: each row falls in exactly one, so their
// counts form a histogram with L2 sensitivity 1, released with noise before anything else about
// a string column is decided.
import { JSON_STYLES, styleOf } from './json-style.ts';

export const SHAPES = ['null', ...JSON_STYLES.map((s) => `json-${s}` as const), 'json-other', 'date', 'pattern', 'text'] as const;
export type Shape = (typeof SHAPES)[number];
/** What a column is modelled as: the winning group of shapes. */
export type ShapeGroup = 'json' | 'date' | 'pattern' | 'text';

export function groupOf(shape: Shape): ShapeGroup | 'null' {
  return shape.startsWith('json-') ? 'json' : (shape as ShapeGroup | 'null');
}

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
/** Ids and codes: one token of letters, digits and a few separators, with at least one digit. */
const PATTERN = /^[A-Za-z0-9_\-./:#+]{1,40}$/;
export const MAX_PATTERN_CHARS = 40;

export function parseDate(s: string): [number, number, number] | undefined {
  const m = ISO_DATE.exec(s);
  if (!m) return undefined;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (month < 1 || month > 12 || day < 1 || day > daysIn(year, month)) return undefined;
  return [year, month, day];
}

export function daysIn(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** A JSON object (not an array, not a scalar), or undefined. */
export function parseObject(s: string): Record<string, unknown> | undefined {
  const t = s.trimStart();
  if (!t.startsWith('{')) return undefined;
  try {
    const v: unknown = JSON.parse(s);
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** The shape of one value; JSON is only recognised at the top of a column (`allowJson`). */
export function shapeOf(value: unknown, allowJson: boolean): Shape {
  if (value === null || value === undefined) return 'null';
  const s = typeof value === 'string' ? value : String(value);
  if (allowJson) {
    const parsed = parseObject(s);
    if (parsed) {
      const style = styleOf(s, parsed);
      return style ? `json-${style}` : 'json-other';
    }
  }
  if (parseDate(s)) return 'date';
  if (PATTERN.test(s) && /\d/.test(s)) return 'pattern';
  return 'text';
}
