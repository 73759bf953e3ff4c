// Ingest streams: while a file is validated and stored, the live JS heap stays flat instead of
// growing with the rows, so a file of any size (1 GB and more) is never held whole.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { readDatasetVersion } from '../../activities/datasets/index.ts';
import { testStore } from '../helpers/storage.ts';
import { MiB } from '../helpers/memory.ts';
import { cleanupDatasets, datasetName, localPath, writeNotes } from './harness.ts';

const probe = fileURLToPath(new URL('./ingest-probe.ts', import.meta.url));

after(async () => {
  await cleanupDatasets(await testStore());
});

function runProbe(file: string, name: string, format: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', probe, file, name, format], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

for (const format of ['csv', 'jsonl'] as const) {
  test(`a ${format.toUpperCase()} file is ingested with a flat live heap`, { timeout: 120_000 }, async () => {
    const rows = 200_000;
    const file = await writeNotes(localPath(`big.${format}`), rows, format);
    const size = statSync(file).size;
    const name = datasetName(`stream-${format}`);
    const r = await runProbe(file, name, format);
    assert.equal(r.code, 0, r.stderr.slice(-2000));
    const out = JSON.parse(r.stdout) as { rows: number; version: number; liveHeapGrowth: number; samples: number; rssGrowth: number };
    console.log(`${format}: ${(size / MiB).toFixed(0)} MiB file; live heap grew by ${(out.liveHeapGrowth / MiB).toFixed(1)} MiB, RSS by ${(out.rssGrowth / MiB).toFixed(0)} MiB`);
    assert.deepEqual({ rows: out.rows, version: out.version }, { rows, version: 1 });
    assert.ok(out.samples >= 4, `the heap was sampled during both passes (${out.samples} samples)`);
    // Holding the file would add at least its size (as text, or far more as parsed rows).
    assert.ok(out.liveHeapGrowth < size / 4, `live heap grew by ${(out.liveHeapGrowth / MiB).toFixed(1)} MiB for a ${(size / MiB).toFixed(0)} MiB file`);
    assert.equal((await readDatasetVersion(await testStore(), name)).meta.rows, rows);
  });
}
