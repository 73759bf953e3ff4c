// The DP synthetic twin of a dataset version, built at ingest: the only rows an analyst ever
// sees (previews, dry runs of traced functions). It is fitted with the owner's (ε, δ) by
// engine/synthetic, stored under synthetic/<name>/v<k>/ (the model and a preview sample,
// committed by a manifest), and its ε is recorded in the dataset's ledger under the pseudo-
// analyst `synthetic-twin`, so every release from the dataset is on the books.
import { randomBytes } from 'node:crypto';
import { fitSyntheticTwin, sampleSynthetic, type ColumnSchema, type SyntheticTwinModel } from '../../engine/synthetic/index.ts';
import { SecureStream } from '../../engine/random/secure-stream.ts';
import { commit, fundAndReserve } from '../budget/ledger.ts';
import { commitOnce, syntheticPrefix, type ArtifactStore } from '../../infra/storage/index.ts';
import { readDatasetRows, readDatasetVersion } from '../datasets/index.ts';
import type { DatasetSchema, SyntheticTwinInfo } from '../../contracts/datasets.ts';
import { sharedStore } from '../shared/resources.ts';
import { TWIN_ANALYST } from '../../contracts/access.ts';

export { TWIN_ANALYST };
export const PREVIEW_ROWS = 200;

export interface SyntheticTwinInput {
  name: string;
  version: number;
  epsilon: number;
  delta: number;
}

function twinSchema(schema: DatasetSchema): { columns: ColumnSchema[] } {
  return {
    columns: schema.columns.map((c) => ({
      name: c.name,
      // Nested JSON values are not modelled: the twin leaves them null (an empty object where never null).
      type: c.type,
      // The published schema says whether a column has nulls: where it has none, the twin draws none.
      nullable: c.nullable,
    })),
  };
}

export async function buildSyntheticTwin(input: SyntheticTwinInput): Promise<SyntheticTwinInfo> {
  const store = await sharedStore();
  const prefix = syntheticPrefix(input.name, input.version);
  const existing = await store.tryReadManifest(prefix);
  if (existing) return existing.meta as SyntheticTwinInfo;

  // Record the release before it happens: a twin that is built is a twin that was charged. The
  // owner's ingest authorized it; the twins' ledger of the dataset grows by one release.
  const key = { dataset: input.name, analyst: TWIN_ANALYST };
  const jobId = `twin-v${input.version}`;
  await fundAndReserve(store, key, { jobId, epsilon: input.epsilon, delta: input.delta });

  const manifest = await readDatasetVersion(store, input.name, input.version);
  const rng = new SecureStream(randomBytes(32)); // fresh secret noise, never stored
  const model: SyntheticTwinModel = await fitSyntheticTwin(readDatasetRows(store, manifest), twinSchema(manifest.meta.schema), { epsilon: input.epsilon, delta: input.delta, rng });
  const preview = sampleSynthetic(model, PREVIEW_ROWS, rng);
  const { manifest: committed } = await commitOnce(store, prefix, async (w) => {
    await w.putJson('twin.json', model);
    await w.put('preview.jsonl', preview.map((r) => JSON.stringify(r)).join('\n') + '\n');
    return { name: input.name, version: input.version, epsilon: input.epsilon, delta: input.delta, previewRows: preview.length } satisfies SyntheticTwinInfo;
  });
  const info = committed.meta as SyntheticTwinInfo;
  await commit(store, key, { jobId, epsilonSpent: input.epsilon, deltaSpent: input.delta });
  return info;
}

/** The preview rows of a version's twin (synthetic: safe for analysts). */
export async function readSyntheticPreview(store: ArtifactStore, name: string, version: number): Promise<{ info: SyntheticTwinInfo; rows: Record<string, unknown>[] } | undefined> {
  const manifest = await store.tryReadManifest(syntheticPrefix(name, version));
  if (!manifest) return undefined;
  const rows = (await store.getEntryBuffer(manifest, 'preview.jsonl')).toString('utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
  return { info: manifest.meta as SyntheticTwinInfo, rows };
}
