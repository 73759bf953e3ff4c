// The format readers and the schema, without servers: UTF-8 checked across chunk boundaries,
// line numbers that survive multi-line records, types inferred without changing any value.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { utf8Text } from '../../activities/datasets/utf8.ts';
import { csvTable } from '../../activities/datasets/csv.ts';
import { jsonlTable } from '../../activities/datasets/jsonl.ts';
import { SchemaBuilder, valueConverter } from '../../activities/datasets/schema.ts';
import { DatasetValidationError } from '../../activities/datasets/validation-error.ts';
import type { TableItem } from '../../activities/datasets/table.ts';
import type { DatasetFormat } from '../../contracts/datasets.ts';

async function* chunks(bytes: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

async function decode(bytes: Buffer, size = bytes.length || 1): Promise<string> {
  let text = '';
  for await (const t of utf8Text(chunks(bytes, size))) text += t;
  return text;
}

async function table(format: DatasetFormat, text: string, chunkSize = 7): Promise<TableItem[]> {
  const items: TableItem[] = [];
  const source = utf8Text(chunks(Buffer.from(text), chunkSize));
  for await (const item of format === 'csv' ? csvTable(source) : jsonlTable(source)) items.push(item);
  return items;
}

async function rejection(p: Promise<unknown>): Promise<string> {
  const err = await p.then(
    () => assert.fail('expected a DatasetValidationError'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof DatasetValidationError, String(err));
  return err.message;
}

describe('UTF-8', () => {
  const text = 'naïve café\n日本語のテキスト\nemoji 🩺 ok\n';
  test('multi-byte characters split at every chunk boundary decode unchanged', async () => {
    for (let size = 1; size <= 9; size++) assert.equal(await decode(Buffer.from(text), size), text);
  });

  test('a byte-order mark is dropped', async () => {
    assert.equal(await decode(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('a,b\n')])), 'a,b\n');
  });

  for (const [what, bad] of [
    ['a stray continuation byte', [0x80]],
    ['an overlong encoding', [0xc0, 0xaf]],
    ['an encoded surrogate', [0xed, 0xa0, 0x80]],
    ['a lead byte without its continuation', [0xe6, 0x41]],
    ['a Latin-1 byte', [0xe9]],
  ] as const) {
    test(`${what} is reported on its line, whatever the chunking`, async () => {
      const bytes = Buffer.concat([Buffer.from('line one\nline two\nline '), Buffer.from(bad), Buffer.from(' three\nline four\n')]);
      for (const size of [1, 2, 3, 5, 64]) assert.match(await rejection(decode(bytes, size)), /not valid UTF-8: line 3 /);
    });
  }

  test('a sequence cut off by the end of the file is reported', async () => {
    assert.match(await rejection(decode(Buffer.from([0x61, 0x0a, 0xe6, 0x97]), 1)), /line 2/);
  });
});

describe('JSON Lines', () => {
  test('CRLF, blank lines and a last line without newline', async () => {
    const items = await table('jsonl', '{"a":1,"b":"x"}\r\n\r\n  \n{"b":"y","a":2}');
    assert.deepEqual(items, [
      { kind: 'columns', columns: ['a', 'b'] },
      { kind: 'row', line: 1, values: [1, 'x'] },
      { kind: 'row', line: 4, values: [2, 'y'] },
    ]);
  });

  test('a line too long to be a record is refused without reading the rest', async () => {
    const huge = `{"a":"${'x'.repeat(17 * 1024 * 1024)}`;
    assert.match(await rejection(table('jsonl', `{"a":"ok"}\n${huge}`, 1024 * 1024)), /line 2 is longer than 16 MiB/);
  });

  test('"__proto__" is an ordinary column name', async () => {
    const items = await table('jsonl', '{"__proto__":1}\n{"__proto__":2}\n');
    assert.deepEqual(items[0], { kind: 'columns', columns: ['__proto__'] });
    assert.equal(items.length, 3);
  });
});

describe('CSV', () => {
  test('quoted fields with commas, quotes and newlines; the line is where the record ends', async () => {
    const items = await table('csv', 'id,note\r\n1,"a, ""quoted"" note"\r\n2,"two\nlines"\n\n3,plain\n');
    assert.deepEqual(items, [
      { kind: 'columns', columns: ['id', 'note'] },
      { kind: 'row', line: 2, values: ['1', 'a, "quoted" note'] },
      { kind: 'row', line: 4, values: ['2', 'two\nlines'] },
      { kind: 'row', line: 6, values: ['3', 'plain'] },
    ]);
  });

  test('a bad record after a multi-line one is reported on its own line', async () => {
    assert.match(await rejection(table('csv', 'id,note\n1,"two\nlines"\n2,x\n3,y,z\n')), /line 5 has 3 fields but the header \(line 1\) has 2 columns/);
  });

  test('a header with an empty name is refused by position', async () => {
    assert.match(await rejection(table('csv', 'id,,note\n1,2,3\n')), /column 2 without a name/);
  });
});

describe('schema', () => {
  function infer(format: DatasetFormat, columns: string[], rows: unknown[][]) {
    const b = new SchemaBuilder(columns, format);
    rows.forEach((r, i) => b.observe(r, i + 2));
    return b.schema();
  }

  test('CSV columns get the narrowest type every cell reads as, and keep identifiers as text', () => {
    const schema = infer('csv', ['int', 'num', 'bool', 'zip', 'big', 'empty', 'text'], [
      ['1', '1.5', 'true', '01234', '12345678901234567890', '', 'a'],
      ['-20', '3', 'FALSE', '75001', '1', '', '2'],
      ['', '1e3', 'false', '13000', '2', '', 'c'],
    ]);
    assert.deepEqual(
      schema.columns.map((c) => [c.name, c.type, c.nullable]),
      [
        ['int', 'integer', true],
        ['num', 'number', false],
        ['bool', 'boolean', false],
        ['zip', 'string', false],
        ['big', 'string', false],
        ['empty', 'string', true],
        ['text', 'string', false],
      ],
    );
    const convert = valueConverter(schema, 'csv');
    assert.deepEqual(convert(['', '1e3', 'FALSE', '01234', '12345678901234567890', '', 'a']), [null, 1000, false, '01234', '12345678901234567890', null, 'a']);
  });

  test('JSON columns keep their type; integers widen to number; null makes a column nullable', () => {
    const schema = infer('jsonl', ['n', 'obj', 's'], [
      [1, { a: 1 }, 'x'],
      [2.5, [1], null],
    ]);
    assert.deepEqual(schema.columns, [
      { name: 'n', type: 'number', nullable: false },
      { name: 'obj', type: 'json', nullable: false },
      { name: 's', type: 'string', nullable: true },
    ]);
    assert.throws(() => infer('jsonl', ['flag'], [[true], ['yes']]), /line 3: column "flag" holds a string where earlier rows hold a boolean/);
  });
});
