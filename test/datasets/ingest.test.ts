// Datasets go in through the ingestDataset workflow and come back whole: CSV and JSON Lines rows
// normalized and typed, a new version for a name that exists, concurrent ingests of one name
// serialized into distinct versions, and the registry listing what an analyst may see.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { VeilClient } from '../../clients/sdk/client.ts';
import { readDatasetRows, readDatasetVersion, type DatasetSummary } from '../../activities/datasets/index.ts';
import { testStore } from '../helpers/storage.ts';
import { connectTestEnvironment, withWorker } from '../helpers/temporal.ts';
import { runVeil } from '../cli/harness.ts';
import { cleanupDatasets, clientFor, datasetName, datasetKeys, datasetsOwner, localFile, datasetsStore } from './harness.ts';

let env: TestWorkflowEnvironment;
before(async () => {
  env = await connectTestEnvironment();
});
after(async () => {
  await cleanupDatasets(await testStore());
  await env.teardown();
});

async function rowsOf(veil: VeilClient, name: string, version?: number): Promise<Record<string, unknown>[]> {
  const manifest = await readDatasetVersion((await datasetsStore()), name, version);
  const rows: Record<string, unknown>[] = [];
  for await (const row of readDatasetRows((await datasetsStore()), manifest)) rows.push(row);
  return rows;
}

function withVeil(fn: (veil: VeilClient) => Promise<void>): Promise<void> {
  return withWorker(
    async (ctx) => {
      const veil = await clientFor(ctx);
      await fn(veil);
    },
    { env, gpu: false },
  );
}

describe('dataset ingest', () => {
  test('a CSV file becomes version 1: typed rows, schema, row count, a verifying manifest', async () => {
    await withVeil(async (veil) => {
      const name = datasetName('csv');
      const file = localFile('notes.csv', 'id,note,age,smoker\n1,"Fatigue, cough",54,true\n2,"Said ""fine""\non two lines",,false\n3,Headache,61,TRUE\n');
      const r = await veil.addDataset(name, file);
      assert.equal(r.name, name);
      assert.equal(r.version, 1);
      assert.equal(r.rows, 3);
      assert.match(r.workflowId, /^ingest-dataset-/);
      assert.deepEqual(r.schema.columns, [
        { name: 'id', type: 'integer', nullable: false },
        { name: 'note', type: 'string', nullable: false },
        { name: 'age', type: 'integer', nullable: true },
        { name: 'smoker', type: 'boolean', nullable: false },
      ]);
      assert.deepEqual(await rowsOf(veil, name), [
        { id: 1, note: 'Fatigue, cough', age: 54, smoker: true },
        { id: 2, note: 'Said "fine"\non two lines', age: null, smoker: false },
        { id: 3, note: 'Headache', age: 61, smoker: true },
      ]);
      const manifest = await readDatasetVersion((await datasetsStore()), name);
      await (await datasetsStore()).verifyManifest(manifest);
      assert.deepEqual(Object.keys(manifest.entries).sort(), ['ingest.json', 'rows.jsonl', 'schema.json']);
      assert.deepEqual((await datasetKeys((await datasetsStore()), name)).sort(), ['ingest.json', 'manifest.json', 'rows.jsonl', 'schema.json'].map((f) => `datasets/${name}/v1/${f}`));
    });
  });

  test('a JSON Lines file keeps its values; an existing name gets the next version, the old one unchanged', async () => {
    await withVeil(async (veil) => {
      const name = datasetName('jsonl');
      const v1 = await veil.addDataset(name, localFile('a.jsonl', '{"id":1,"text":"first"}\n'));
      const lines = ['{"text":"é 🩺 \\u0000","id":1,"tags":["a"],"score":0.5}', '', '{"id":2,"text":"two","tags":{"k":null},"score":2}', '{"id":3,"text":null,"tags":[],"score":-1e-3}'];
      const v2 = await veil.addDataset(name, localFile('b.jsonl', `${lines.join('\r\n')}\r\n`));
      assert.deepEqual([v1.version, v2.version], [1, 2]);
      assert.equal(v2.rows, 3);
      assert.deepEqual(v2.schema.columns, [
        { name: 'text', type: 'string', nullable: true },
        { name: 'id', type: 'integer', nullable: false },
        { name: 'tags', type: 'json', nullable: false },
        { name: 'score', type: 'number', nullable: false },
      ]);
      assert.deepEqual(
        await rowsOf(veil, name),
        lines.filter((l) => l).map((l) => JSON.parse(l) as unknown),
      );
      assert.deepEqual(await rowsOf(veil, name, 1), [{ id: 1, text: 'first' }]);

      const listed = (await veil.listDatasets()).find((d) => d.name === name);
      assert.ok(listed);
      assert.equal(listed.version, 2);
      assert.deepEqual(listed.versions, [1, 2]);
      assert.equal(listed.rows, 3);
      assert.equal(listed.format, 'jsonl');
    });
  });

  test('concurrent ingests of one name get distinct versions, each whole', async () => {
    await withVeil(async (veil) => {
      const name = datasetName('race');
      const files = [0, 1, 2].map((k) => localFile(`r${k}.jsonl`, Array.from({ length: 50 + k }, (_, i) => JSON.stringify({ i, k })).join('\n')));
      const results = await Promise.all(files.map((f) => veil.addDataset(name, f)));
      assert.deepEqual(results.map((r) => r.version).sort(), [1, 2, 3]);
      for (const r of results) {
        const rows = await rowsOf(veil, name, r.version);
        assert.equal(rows.length, r.rows);
        const k = r.rows - 50;
        assert.ok(rows.every((row) => row.k === k), `version ${r.version} holds exactly one file's rows`);
        await (await datasetsStore()).verifyManifest(await readDatasetVersion((await datasetsStore()), name, r.version));
      }
    });
  });

  test('`veil datasets list --json` shows names, versions, schemas and row counts, never rows', async () => {
    await withVeil(async (veil) => {
      const name = datasetName('cli');
      const secretNote = `private-${name}`;
      await veil.addDataset(name, localFile('cli.csv', `id,note\n1,${secretNote}\n2,other\n`));
      // Async child processes: the in-process workers must keep running while the CLI asks them.
      const token = { VEIL_TOKEN: (await datasetsOwner()).token };
      const cli = await runVeil(['datasets', 'list', '--json'], { taskQueue: veil.taskQueue, env: token });
      assert.equal(cli.code, 0, cli.stderr);
      assert.ok(!cli.stdout.includes(secretNote));
      const entry = (JSON.parse(cli.stdout) as DatasetSummary[]).find((d) => d.name === name);
      assert.ok(entry);
      assert.deepEqual(
        { version: entry.version, rows: entry.rows, columns: entry.schema.columns.map((c) => `${c.name}:${c.type}`) },
        { version: 1, rows: 2, columns: ['id:integer', 'note:string'] },
      );
      const table = await runVeil(['datasets', 'list'], { taskQueue: veil.taskQueue, env: token });
      assert.match(table.stdout, new RegExp(`${name}\\s+v1\\s+2\\s+id: integer, note: string`));
    });
  });
});
