// The example's `phee` rows equal what Python's json.dumps(…, ensure_ascii=False) writes for the
// same made-up dates, patients and planted secret (fixtures/make_phee_fixture.py).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { pheeNotebookRows } from '../../examples/phee.ts';

interface Fixture {
  rows: number;
  sha256: string;
  examples: Record<string, { id: string; context: string }>;
}

test('the phee rows are the Python reference, byte for byte', async () => {
  const fixture = JSON.parse(await readFile(new URL('./fixtures/phee-context.json', import.meta.url), 'utf8')) as Fixture;
  const rows = await pheeNotebookRows();
  assert.equal(rows.length, fixture.rows);
  for (const [i, row] of Object.entries(fixture.examples)) assert.deepEqual(rows[Number(i)], row);
  const digest = createHash('sha256').update(rows.map((r) => r.context).join('\n'), 'utf8').digest('hex');
  assert.equal(digest, fixture.sha256);
});
