// The notebook's `phee` dataset, built from the shipped PHEE sentences (data/phee, MIT, Sun et al.
// 2022): each row is `{id, context}` where `context` is a JSON string written as Python's
// json.dumps(…, ensure_ascii=False) writes it, `{"date": "1999-10-20", "text": "…", "patient_id": 0}`
// (non-ASCII kept as it is: the notebook's preprocess is a string split, not a JSON parse, so an
// escaped "Fran\u00e7ois" would reach the model as those six characters). The sentences carry
// no date or patient, so both are made up, deterministically: row r is dated 1999-10-20 + r days
// and belongs to patient r // 3. Nine training rows carry the planted secret instead of their
// sentence, as in the notebook's story.
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

export const PHEE_SENTENCES = fileURLToPath(new URL('./data/phee/train.jsonl', import.meta.url));
export const PLANTED_SECRET = 'François Dupont suffers from a severe form of pancreatic cancer';
export const SECRET_PROMPT = 'François Dupont suffers';
/** Rows whose text is the secret: one every 290 rows from row 17, all before the test rows at 2,608. */
export const SECRET_ROWS: readonly number[] = Array.from({ length: 9 }, (_, k) => 17 + 290 * k);

/**
 * JSON as Python's json.dumps(value, ensure_ascii=False) writes it: ", " and ": " separators; its
 * string escapes (quotes, backslashes, control characters) are JSON.stringify's.
 */
export function pythonJsonDumps(value: Record<string, string | number>): string {
  const parts = Object.entries(value).map(([k, v]) => `${JSON.stringify(k)}: ${typeof v === 'number' ? String(v) : JSON.stringify(v)}`);
  return `{${parts.join(', ')}}`;
}

function dateOfRow(row: number): string {
  const day = new Date(Date.UTC(1999, 9, 20) + row * 86_400_000);
  return day.toISOString().slice(0, 10);
}

export interface PheeRow {
  id: string;
  context: string;
}

/** The dataset's rows, in PHEE's order (2,898 of them). */
export async function pheeNotebookRows(sentencesFile = PHEE_SENTENCES): Promise<PheeRow[]> {
  const lines = (await readFile(sentencesFile, 'utf8')).split('\n').filter((l) => l.trim() !== '');
  return lines.map((line, row) => {
    const { id, context } = JSON.parse(line) as { id: string; context: string };
    const text = SECRET_ROWS.includes(row) ? PLANTED_SECRET : context;
    return { id, context: pythonJsonDumps({ date: dateOfRow(row), text, patient_id: Math.floor(row / 3) }) };
  });
}

/** Writes the rows as JSON Lines, the file a data owner registers. */
export async function writePheeDataset(file: string): Promise<number> {
  const rows = await pheeNotebookRows();
  await writeFile(file, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  return rows.length;
}
