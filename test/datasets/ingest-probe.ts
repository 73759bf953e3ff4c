// Run as a child process by streaming.test.ts (with --expose-gc): stages a local file, ingests it
// with the ingest functions themselves (no Temporal), and measures the live JS heap after a full
// GC at regular points of both passes. Prints the result and the measurements as JSON.
import { createReadStream } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { ArtifactStore, uploadKey } from '../../infra/storage/index.ts';
import { ingestDataset } from '../../activities/datasets/index.ts';
import type { DatasetFormat } from '../../contracts/datasets.ts';
import { measureRssGrowth } from '../helpers/memory.ts';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');
const liveHeap = (): number => {
  gc();
  return process.memoryUsage().heapUsed;
};

const [file, name, format] = process.argv.slice(2) as [string, string, DatasetFormat];
const store = await ArtifactStore.fromConfig();
const upload = await store.putImmutable(uploadKey(randomUUID()), createReadStream(file));
const heapBefore = liveHeap();
let heapPeak = heapBefore;
let samples = 0;
let nextSample = 0;
const SAMPLE_EVERY_ROWS = 25_000;
const { result, peakGrowth } = await measureRssGrowth(async () => {
  try {
    return await ingestDataset(store, { name, format, upload }, {
      ingestId: `probe-${randomUUID()}`,
      onProgress: ({ rows }) => {
        if (rows < nextSample) {
          nextSample = 0; // the second pass starts counting again
        }
        if (rows < nextSample + SAMPLE_EVERY_ROWS) return;
        nextSample = rows;
        samples++;
        heapPeak = Math.max(heapPeak, liveHeap());
      },
    });
  } finally {
    await store.delete(upload.key);
  }
});
process.stdout.write(`${JSON.stringify({ rows: result.rows, version: result.version, liveHeapGrowth: heapPeak - heapBefore, samples, rssGrowth: peakGrowth })}\n`);
