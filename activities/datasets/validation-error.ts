// The one error a bad input file raises. Its message is shown to the data owner and recorded in
// Temporal's history, so it speaks only of counts, column positions, schema column names and line
// numbers: never of a row's content, which is the private data Veil exists to protect.

export class DatasetValidationError extends Error {
  override name = 'DatasetValidationError';
  readonly exitCode = 3;
}

/** Line numbers as people count them (1-based). */
export function lineRef(line: number): string {
  return `line ${line}`;
}
