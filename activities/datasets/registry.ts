// Reading the dataset registry: which datasets exist, their committed versions, schemas and row
// counts (what an analyst may see), and, for the activities that train on them, their rows, read
// back verified against the manifest.
import { datasetVersionPrefix, type ArtifactStore, type Manifest } from '../../infra/storage/index.ts';
import { committedVersions, readVersionManifest } from './versions.ts';
import type { DatasetMeta, DatasetSummary } from '../../contracts/datasets.ts';

export type { DatasetSummary };

export class DatasetNotFoundError extends Error {
  override name = 'DatasetNotFoundError';
  readonly exitCode = 4;
}

/** Every dataset with at least one committed version, by name. */
export async function listDatasets(store: ArtifactStore): Promise<DatasetSummary[]> {
  const out: DatasetSummary[] = [];
  for (const name of await store.listPrefixes('datasets')) {
    const versions = await committedVersions(store, name);
    const latest = versions.at(-1);
    if (latest === undefined) continue; // only unfinished ingests so far
    const manifest = await readVersionManifest(store, name, latest);
    if (!manifest) continue;
    const { rows, schema, format } = manifest.meta;
    out.push({ name, version: latest, versions, rows, schema, format, createdAt: manifest.createdAt });
  }
  return out;
}

/** The manifest of one committed version (the latest when `version` is omitted). */
export async function readDatasetVersion(store: ArtifactStore, name: string, version?: number): Promise<Manifest<DatasetMeta>> {
  const v = version ?? (await committedVersions(store, name)).at(-1);
  const manifest = v === undefined ? undefined : await readVersionManifest(store, name, v);
  if (!manifest) throw new DatasetNotFoundError(version === undefined ? `no dataset named "${name}"` : `dataset "${name}" has no version ${version}`);
  return manifest;
}

/** The rows of a committed version, one object at a time, verified against the manifest as they stream. */
export async function* readDatasetRows(store: ArtifactStore, manifest: Manifest<DatasetMeta>): AsyncGenerator<Record<string, unknown>> {
  if (manifest.prefix !== datasetVersionPrefix(manifest.meta.name, manifest.meta.version)) throw new Error(`manifest of ${manifest.prefix} is not a dataset version`);
  let partial = '';
  const decoder = new TextDecoder('utf-8', { fatal: true });
  for await (const chunk of await store.getEntry(manifest, 'rows.jsonl')) {
    const lines = (partial + decoder.decode(chunk as Buffer, { stream: true })).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) yield JSON.parse(line) as Record<string, unknown>;
  }
  partial += decoder.decode();
  if (partial.length > 0) yield JSON.parse(partial) as Record<string, unknown>;
}
