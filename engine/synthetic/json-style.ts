// How a JSON object is written out, so that the twin writes its objects the way the data does:
// code that splits a string on `", "` or `": "` must work on the preview as on the rows.
//
//   - compact: JavaScript's JSON.stringify (`{"a":1,"b":"x"}`);
//   - python: Python's json.dumps defaults (`{"a": 1, "b": "x"}`, non-ASCII as \uXXXX, floats as
//     repr: `1.0`, `1e-05`);
//   - python-unicode: json.dumps(..., ensure_ascii=False) (non-ASCII characters as they are).
//
// test/synthetic/fixtures/json_style_reference.py checks these against Python's json module.

export const JSON_STYLES = ['compact', 'python', 'python-unicode'] as const;
export type JsonStyle = (typeof JSON_STYLES)[number];

export type FlatValue = string | number | boolean | null;

/** A float as Python's repr writes it: shortest round-trip digits, exponent below 1e-4 or from 1e16. */
export function pythonFloat(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (!Number.isFinite(x)) return x > 0 ? 'Infinity' : '-Infinity';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const [mantissa, exponentText] = x.toExponential().split('e');
  const exponent = Number(exponentText);
  const negative = mantissa.startsWith('-');
  const digits = mantissa.replace('-', '').replace('.', '');
  let body: string;
  if (exponent >= -4 && exponent < 16) {
    if (exponent < 0) body = `0.${'0'.repeat(-exponent - 1)}${digits}`;
    else if (digits.length <= exponent + 1) body = `${digits}${'0'.repeat(exponent + 1 - digits.length)}.0`;
    else body = `${digits.slice(0, exponent + 1)}.${digits.slice(exponent + 1)}`;
  } else {
    const fraction = digits.length > 1 ? `.${digits.slice(1)}` : '';
    const sign = exponent < 0 ? '-' : '+';
    body = `${digits[0]}${fraction}e${sign}${String(Math.abs(exponent)).padStart(2, '0')}`;
  }
  return negative ? `-${body}` : body;
}

function asciiOnly(json: string): string {
  return json.replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function writeString(s: string, style: JsonStyle): string {
  const quoted = JSON.stringify(s);
  return style === 'python' ? asciiOnly(quoted) : quoted;
}

/** One value: integers stay integers; other numbers are floats (Python writes them as repr). */
function writeValue(v: FlatValue, integer: boolean, style: JsonStyle): string {
  if (typeof v === 'string') return writeString(v, style);
  if (typeof v === 'number' && style !== 'compact') return integer ? String(Math.round(v)) : pythonFloat(v);
  return JSON.stringify(v);
}

/** A flat object in `style`; `integerKeys` are keys whose numbers are written as integers. */
export function writeObject(entries: readonly (readonly [string, FlatValue])[], style: JsonStyle, integerKeys: ReadonlySet<string> = new Set()): string {
  const [itemSeparator, keySeparator] = style === 'compact' ? [',', ':'] : [', ', ': '];
  return `{${entries.map(([k, v]) => `${writeString(k, style)}${keySeparator}${writeValue(v, integerKeys.has(k), style)}`).join(itemSeparator)}}`;
}

/** The style a JSON object string is written in, or undefined when it is none of them exactly.
 * Python's json writes integers without a dot, which JSON.parse cannot tell from floats, so a
 * number is taken as an integer when the text shows no `.` or exponent in it. */
export function styleOf(raw: string, parsed: Record<string, unknown>): JsonStyle | undefined {
  const entries = Object.entries(parsed);
  if (!entries.every(([, v]) => v === null || ['string', 'number', 'boolean'].includes(typeof v))) return undefined;
  const flat = entries as [string, FlatValue][];
  const integers = new Set(flat.filter(([k, v]) => typeof v === 'number' && Number.isInteger(v) && integerWritten(raw, k)).map(([k]) => k));
  for (const style of JSON_STYLES) if (writeObject(flat, style, integers) === raw) return style;
  return undefined;
}

/** Whether the number after key `k` in `raw` is written without a fraction or exponent. */
function integerWritten(raw: string, k: string): boolean {
  const at = raw.indexOf(`${JSON.stringify(k)}:`);
  if (at < 0) return true;
  const after = raw.slice(at).match(/^"(?:[^"\\]|\\.)*":\s*(-?[0-9][0-9.eE+-]*)/);
  return !after || !/[.eE]/.test(after[1]);
}
