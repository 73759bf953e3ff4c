// Shared by the dataset tests: local files to ingest, a VeilClient on a test worker's queue, and
// what S3 holds for a dataset or an upload.
import { decodePayloads } from '../../clients/sdk/jobs/index.ts';
import { createWriteStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VeilClient } from '../../clients/sdk/client.ts';
import type { ArtifactStore } from '../../infra/storage/index.ts';
import type { WorkerContext } from '../helpers/temporal.ts';
import { uniqueName } from '../helpers/names.ts';
import { newOwner, type TestPrincipal } from '../helpers/principals.ts';
import { testStore } from '../helpers/storage.ts';

const dir = mkdtempSync(join(tmpdir(), 'veil-datasets-test-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

let fileCount = 0;
/** Writes `content` to a fresh local file named like `fileName` and returns its path. */
export function localFile(fileName: string, content: string | Buffer): string {
  const path = join(dir, `${++fileCount}-${fileName}`);
  writeFileSync(path, content);
  return path;
}

export function localPath(fileName: string): string {
  return join(dir, `${++fileCount}-${fileName}`);
}

const created = new Set<string>();
/** A fresh dataset name, remembered so that cleanupDatasets() can remove what the test stored. */
export function datasetName(base: string): string {
  const name = uniqueName(base);
  created.add(name);
  return name;
}

/**
 * Removes the datasets this test file created. Committed versions are immutable for Veil; only
 * tests delete them, so the shared server does not accumulate a dataset per test per run.
 */
export async function cleanupDatasets(store: ArtifactStore): Promise<void> {
  for (const name of created) await store.deletePrefix(`datasets/${name}`);
  created.clear();
}

/** Writes `rows` clinical-note-like rows to `path` as JSON Lines (or CSV) without holding them in memory. */
export async function writeNotes(path: string, rows: number, format: 'jsonl' | 'csv' = 'jsonl'): Promise<string> {
  const out = createWriteStream(path);
  if (format === 'csv') out.write('id,note\n');
  for (let i = 0; i < rows; i++) {
    const note = `Patient ${i} reports fatigue and headaches for ${i % 14} days; blood pressure ${100 + (i % 60)}/80 mmHg. Follow-up in three months.`;
    const line = format === 'csv' ? `${i},"${note}"\n` : `${JSON.stringify({ id: i, note })}\n`;
    if (!out.write(line)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  return path;
}

let store: Promise<ArtifactStore> | undefined;
/** The test S3 store (tests play the operator: clients themselves have no S3 access). */
export function datasetsStore(): Promise<ArtifactStore> {
  store ??= testStore();
  return store;
}

let owner: Promise<TestPrincipal> | undefined;
/** The data owner these tests ingest as (one per test file). */
export function datasetsOwner(): Promise<TestPrincipal> {
  owner ??= newOwner('datasets-owner');
  return owner;
}

/** A Veil client that starts workflows on the test worker's queue, signed by the tests' data owner. */
export async function clientFor(ctx: WorkerContext): Promise<VeilClient> {
  return VeilClient.connect({ temporal: ctx.client, taskQueue: ctx.taskQueue, token: (await datasetsOwner()).token });
}

/** Every object under datasets/<name>/. */
export async function datasetKeys(store: ArtifactStore, name: string): Promise<string[]> {
  return (await store.listObjects(`datasets/${name}`)).map((o) => o.key);
}

/** Every string in a workflow's history: inputs, results, failure messages, heartbeat details. */
export async function historyText(ctx: WorkerContext, workflowId: string): Promise<string> {
  const history = await ctx.client.workflow.getHandle(workflowId).fetchHistory();
  const decoder = new TextDecoder();
  const parts: string[] = [];
  const walk = (v: unknown): void => {
    if (v instanceof Uint8Array) parts.push(decoder.decode(v));
    else if (typeof v === 'string') parts.push(v);
    else if (Array.isArray(v)) v.forEach(walk);
    else if (v !== null && typeof v === 'object') Object.values(v).forEach(walk);
  };
  walk(history.events);
  return parts.join('\n');
}

/** The input the workflow was started with (first event of its history). */
export async function workflowInput<T>(ctx: WorkerContext, workflowId: string): Promise<T> {
  const history = await ctx.client.workflow.getHandle(workflowId).fetchHistory();
  const payload = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
  if (!payload?.data) throw new Error(`no input in the history of ${workflowId}`);
  // Histories hold sealed payloads: the test's client opens them with the operator's codec.
  const [input] = await decodePayloads(ctx.client, [payload]);
  return input as T;
}
