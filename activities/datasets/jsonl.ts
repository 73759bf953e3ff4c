// JSON Lines: one JSON object per line, every line with the same keys. Blank lines are skipped.
// The first object's keys, in their order, are the columns.
import { MAX_COLUMNS, MAX_COLUMN_NAME_LENGTH, MAX_RECORD_CHARS, type TableItem } from './table.ts';
import { DatasetValidationError, lineRef } from './validation-error.ts';

async function* lines(text: AsyncIterable<string>): AsyncGenerator<{ line: number; text: string }> {
  let partial = '';
  let line = 0;
  for await (const chunk of text) {
    let start = 0;
    for (let nl = chunk.indexOf('\n'); nl !== -1; nl = chunk.indexOf('\n', start)) {
      line++;
      const piece = partial + chunk.slice(start, nl);
      partial = '';
      start = nl + 1;
      if (piece.length > MAX_RECORD_CHARS) throw tooLong(line);
      yield { line, text: piece };
    }
    partial += chunk.slice(start);
    if (partial.length > MAX_RECORD_CHARS) throw tooLong(line + 1);
  }
  if (partial.length > 0) yield { line: line + 1, text: partial };
}

function tooLong(line: number): DatasetValidationError {
  return new DatasetValidationError(`${lineRef(line)} is longer than ${MAX_RECORD_CHARS / (1024 * 1024)} MiB characters; is this really a JSON Lines file?`);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Compares a row's keys with the columns, describing the difference without naming unknown keys. */
function keyMismatch(columns: string[], known: Set<string>, row: Record<string, unknown>): string | undefined {
  const keys = Object.keys(row);
  const missing = columns.filter((c) => !Object.hasOwn(row, c));
  const extra = keys.filter((k) => !known.has(k)).length;
  if (missing.length === 0 && extra === 0) return undefined;
  const parts: string[] = [];
  // Column names from the first line are the schema (shown to analysts anyway); keys that are
  // not columns might be anything, even data, so they are only counted.
  if (missing.length > 0) parts.push(`missing column${missing.length > 1 ? 's' : ''} ${missing.map((c) => JSON.stringify(c)).join(', ')}`);
  if (extra > 0) parts.push(`${extra} unexpected key${extra > 1 ? 's' : ''}`);
  return parts.join(' and ');
}

export async function* jsonlTable(text: AsyncIterable<string>): AsyncGenerator<TableItem> {
  let columns: string[] | undefined;
  let known = new Set<string>();
  let firstLine = 0;
  for await (const { line, text: raw } of lines(text)) {
    const trimmed = raw.trim();
    if (trimmed.length === 0) continue;
    let value: unknown;
    try {
      value = JSON.parse(trimmed);
    } catch {
      // JSON.parse's own message quotes the text around the error: never pass it on.
      throw new DatasetValidationError(`${lineRef(line)} is not valid JSON`);
    }
    if (!isPlainObject(value)) throw new DatasetValidationError(`${lineRef(line)} is not a JSON object (each line must be one object, e.g. {"text": "..."})`);
    if (columns === undefined) {
      columns = Object.keys(value);
      if (columns.length === 0) throw new DatasetValidationError(`${lineRef(line)} is an empty object: the first row must name the columns`);
      if (columns.length > MAX_COLUMNS) throw new DatasetValidationError(`${lineRef(line)} has ${columns.length} keys; at most ${MAX_COLUMNS} columns are supported`);
      const longName = columns.findIndex((c) => c.length === 0 || c.length > MAX_COLUMN_NAME_LENGTH);
      if (longName !== -1) throw new DatasetValidationError(`${lineRef(line)}: key ${longName + 1} is empty or longer than ${MAX_COLUMN_NAME_LENGTH} characters, which a column name cannot be`);
      known = new Set(columns);
      firstLine = line;
      yield { kind: 'columns', columns };
    } else {
      const mismatch = keyMismatch(columns, known, value);
      if (mismatch) throw new DatasetValidationError(`${lineRef(line)} has other columns than ${lineRef(firstLine)}: ${mismatch}`);
    }
    yield { kind: 'row', line, values: columns.map((c) => value[c]) };
  }
}
