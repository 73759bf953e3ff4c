// What the format readers produce: the column names, then each row's values in column order,
// with the line the row ends on (for error messages).

export type TableItem = { kind: 'columns'; columns: string[] } | { kind: 'row'; line: number; values: unknown[] };

export const MAX_COLUMNS = 4096;
export const MAX_COLUMN_NAME_LENGTH = 256;
/** A longer line (or CSV record) is refused rather than buffered: a file with no newlines must not fill memory. */
export const MAX_RECORD_CHARS = 16 * 1024 * 1024;
