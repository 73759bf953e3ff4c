// Column types. JSON Lines values carry their type: a column must keep one type across rows
// (integers and other numbers mix into "number"; null makes it nullable). CSV values are text:
// a column is integer, number or boolean when every non-empty cell reads as one, else string,
// and an empty cell is a null. Canonical forms only ("007" stays a string: it is an identifier,
// not seven), so a value never changes meaning on the way in.
import type { Column, ColumnType, DatasetFormat, DatasetSchema } from '../../contracts/datasets.ts';
import { DatasetValidationError, lineRef } from './validation-error.ts';

const INTEGER = /^-?(0|[1-9][0-9]*)$/;
const NUMBER = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$/;
const BOOLEAN = /^(true|false)$/i;

function jsonKind(v: unknown): ColumnType | 'null' {
  if (v === null) return 'null';
  switch (typeof v) {
    case 'string':
      return 'string';
    case 'boolean':
      return 'boolean';
    case 'number':
      return Number.isInteger(v) ? 'integer' : 'number';
    default:
      return 'json';
  }
}

interface ColumnState {
  type: ColumnType | undefined;
  nullable: boolean;
  // CSV only: which typed readings every non-empty cell so far allows.
  canInteger: boolean;
  canNumber: boolean;
  canBoolean: boolean;
}

/** Learns the schema from a first pass over the rows, checking JSONL type consistency on the way. */
export class SchemaBuilder {
  private readonly state: ColumnState[];

  constructor(
    private readonly columns: string[],
    private readonly format: DatasetFormat,
  ) {
    this.state = columns.map(() => ({ type: undefined, nullable: false, canInteger: true, canNumber: true, canBoolean: true }));
  }

  observe(values: unknown[], line: number): void {
    if (this.format === 'csv') this.observeCsv(values as string[]);
    else this.observeJson(values, line);
  }

  private observeCsv(values: string[]): void {
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      const s = this.state[i];
      if (v === '') {
        s.nullable = true;
        continue;
      }
      s.type = 'string'; // "has a value"; the final type is decided in schema()
      const integral = INTEGER.test(v);
      // A whole number too big for a double is an identifier (an account number…): keep the text.
      if (integral && !Number.isSafeInteger(Number(v))) s.canInteger = s.canNumber = false;
      if (s.canInteger && !integral) s.canInteger = false;
      if (s.canNumber && !(NUMBER.test(v) && Number.isFinite(Number(v)))) s.canNumber = false;
      if (s.canBoolean && !BOOLEAN.test(v)) s.canBoolean = false;
    }
  }

  private observeJson(values: unknown[], line: number): void {
    for (let i = 0; i < values.length; i++) {
      const kind = jsonKind(values[i]);
      const s = this.state[i];
      if (kind === 'null') {
        s.nullable = true;
        continue;
      }
      if (s.type === undefined || s.type === kind) s.type = kind;
      else if ((s.type === 'integer' && kind === 'number') || (s.type === 'number' && kind === 'integer')) s.type = 'number';
      else {
        throw new DatasetValidationError(
          `${lineRef(line)}: column ${JSON.stringify(this.columns[i])} holds ${article(kind)} ${kind} where earlier rows hold ${article(s.type)} ${s.type}; a column keeps one type (null is allowed)`,
        );
      }
    }
  }

  schema(): DatasetSchema {
    const columns: Column[] = this.columns.map((name, i) => {
      const s = this.state[i];
      let type: ColumnType = s.type ?? 'string';
      if (this.format === 'csv' && s.type !== undefined) type = s.canInteger ? 'integer' : s.canNumber ? 'number' : s.canBoolean ? 'boolean' : 'string';
      return { name, type, nullable: s.nullable || s.type === undefined };
    });
    return { columns };
  }
}

function article(kind: string): string {
  return /^[aeiou]/.test(kind) ? 'an' : 'a';
}

/** Turns a row's values into their stored form under the learned schema (CSV text → typed values). */
export function valueConverter(schema: DatasetSchema, format: DatasetFormat): (values: unknown[]) => unknown[] {
  if (format !== 'csv') return (values) => values;
  const types = schema.columns.map((c) => c.type);
  return (values) =>
    (values as string[]).map((v, i) => {
      if (v === '') return null;
      switch (types[i]) {
        case 'integer':
        case 'number':
          return Number(v);
        case 'boolean':
          return v.toLowerCase() === 'true';
        default:
          return v;
      }
    });
}
