// CSV (RFC 4180, comma-separated, first record = header) through csv-parse, streaming. Values stay
// strings here; the schema pass decides their types. csv-parse's own messages quote the offending
// field, so they are replaced by ours, which give only the kind of fault and the line.
import { Readable } from 'node:stream';
import { CsvError, parse } from 'csv-parse';
import { MAX_COLUMNS, MAX_COLUMN_NAME_LENGTH, MAX_RECORD_CHARS, type TableItem } from './table.ts';
import { DatasetValidationError, lineRef } from './validation-error.ts';

const faults: Record<string, string> = {
  INVALID_OPENING_QUOTE: 'a quote appears inside a field that does not start with a quote (quote the whole field and double the inner quotes)',
  CSV_INVALID_CLOSING_QUOTE: 'a quoted field has characters after its closing quote',
  CSV_NON_TRIMABLE_CHAR_AFTER_CLOSING_QUOTE: 'a quoted field has characters after its closing quote',
  CSV_QUOTE_NOT_CLOSED: 'a quoted field is never closed',
  CSV_MAX_RECORD_SIZE: `a record is longer than ${MAX_RECORD_CHARS / (1024 * 1024)} MiB characters (an unclosed quote?)`,
};

/** Faults found only where the parse gives up (end of file, size limit), not where they start. */
const detectedLate = new Set(['CSV_QUOTE_NOT_CLOSED', 'CSV_MAX_RECORD_SIZE']);

function malformed(err: CsvError, lastRecordEnd: number): DatasetValidationError {
  const fault = faults[err.code] ?? 'malformed record';
  // The record after the last good one is where the fault starts (blank lines aside).
  if (detectedLate.has(err.code)) return new DatasetValidationError(`the record starting at ${lineRef(lastRecordEnd + 1)} is not valid CSV: ${fault}`);
  const line = (err as CsvError & { lines?: number }).lines;
  const where = typeof line === 'number' && line > 0 ? lineRef(line) : 'the file';
  return new DatasetValidationError(`${where} is not valid CSV: ${fault}`);
}

function checkHeader(header: string[], line: number): void {
  if (header.length > MAX_COLUMNS) throw new DatasetValidationError(`the header (${lineRef(line)}) has ${header.length} columns; at most ${MAX_COLUMNS} are supported`);
  const seen = new Map<string, number>();
  header.forEach((name, i) => {
    // Positions, not names: if the file has no header, its "names" are the first row's data.
    if (name.trim().length === 0) throw new DatasetValidationError(`the header (${lineRef(line)}) leaves column ${i + 1} without a name; the first line must name every column`);
    if (name.length > MAX_COLUMN_NAME_LENGTH) throw new DatasetValidationError(`the header (${lineRef(line)}) has a name longer than ${MAX_COLUMN_NAME_LENGTH} characters in column ${i + 1}; the first line must name the columns`);
    const before = seen.get(name);
    if (before !== undefined) throw new DatasetValidationError(`the header (${lineRef(line)}) gives columns ${before + 1} and ${i + 1} the same name`);
    seen.set(name, i);
  });
}

export async function* csvTable(text: AsyncIterable<string>): AsyncGenerator<TableItem> {
  // Both line endings are accepted, even mixed in one file (files edited on two systems).
  const parser = parse({ info: true, relax_column_count: true, skip_empty_lines: true, max_record_size: MAX_RECORD_CHARS, record_delimiter: ['\r\n', '\n'] });
  const source = Readable.from(text);
  // A fault in the source (invalid UTF-8) ends the parse with that fault.
  source.on('error', (err) => parser.destroy(err));
  source.pipe(parser);
  let width: number | undefined;
  let headerLine = 0;
  let lastRecordEnd = 0;
  try {
    for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
      lastRecordEnd = info.lines;
      if (width === undefined) {
        checkHeader(record, info.lines);
        width = record.length;
        headerLine = info.lines;
        yield { kind: 'columns', columns: record };
        continue;
      }
      if (record.length !== width) {
        throw new DatasetValidationError(`${lineRef(info.lines)} has ${record.length} field${record.length === 1 ? '' : 's'} but the header (${lineRef(headerLine)}) has ${width} columns`);
      }
      yield { kind: 'row', line: info.lines, values: record };
    }
  } catch (err) {
    if (err instanceof CsvError) throw malformed(err, lastRecordEnd);
    throw err;
  } finally {
    source.destroy();
    parser.destroy();
  }
}
