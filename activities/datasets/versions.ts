// Version slots of a dataset. An ingest first claims datasets/<name>/v<k>/ by writing its
// ingest.json create-only: two concurrent ingests of one name race on that write and the loser
// takes k+1, before either uploads a byte of rows. The manifest, written last, commits the slot.
// A slot with a claim and no manifest is an ingest in progress, or one that failed.
import { z } from 'zod';
import { ObjectExistsError, datasetPrefix, datasetVersionPrefix, parseVersionSegment, sha256Hex, type ArtifactStore, type Manifest, type StoredObject } from '../../infra/storage/index.ts';
import { datasetMetaSchema, type DatasetMeta } from '../../contracts/datasets.ts';

export const CLAIM_FILE = 'ingest.json';
/** The files an ingest writes after its claim (the manifest aside). */
export const DATA_FILES = ['rows.jsonl', 'schema.json'] as const;

/** Aborts what a failed attempt left of multipart uploads in a slot (listed by exact key, see store). */
async function abortUnfinishedUploads(store: ArtifactStore, name: string, version: number): Promise<void> {
  for (const file of DATA_FILES) await store.abortIncompleteUploads(`${datasetVersionPrefix(name, version)}/${file}`);
}
const claimSchema = z.object({ ingestId: z.string(), claimedAt: z.string() });

/** Every version slot of a dataset, committed or not, ascending. */
export async function versionSlots(store: ArtifactStore, name: string): Promise<number[]> {
  const slots = (await store.listPrefixes(datasetPrefix(name))).map(parseVersionSegment).filter((v): v is number => v !== undefined);
  return slots.sort((a, b) => a - b);
}

/** The committed versions of a dataset (those with a manifest), ascending, from one listing. */
export async function committedVersions(store: ArtifactStore, name: string): Promise<number[]> {
  const prefix = datasetPrefix(name);
  const versions: number[] = [];
  for (const { key } of await store.listObjects(prefix)) {
    const m = new RegExp(`^${prefix}/(v[0-9]+)/manifest\\.json$`).exec(key);
    const v = m ? parseVersionSegment(m[1]) : undefined;
    if (v !== undefined) versions.push(v);
  }
  return versions.sort((a, b) => a - b);
}

export function readVersionManifest(store: ArtifactStore, name: string, version: number): Promise<Manifest<DatasetMeta> | undefined> {
  return store.tryReadManifest(datasetVersionPrefix(name, version), datasetMetaSchema);
}

/** The claim of a slot, as a StoredObject (for the manifest) plus who holds it; undefined if none. */
async function readClaim(store: ArtifactStore, name: string, version: number): Promise<{ ingestId: string; object: StoredObject } | undefined> {
  const key = `${datasetVersionPrefix(name, version)}/${CLAIM_FILE}`;
  if (!(await store.exists(key))) return undefined;
  const chunks: Buffer[] = [];
  for await (const chunk of await store.getRaw(key)) chunks.push(chunk as Buffer);
  const bytes = Buffer.concat(chunks);
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch {
    return undefined; // not a claim this code wrote: leave the slot alone
  }
  const parsed = claimSchema.safeParse(json);
  if (!parsed.success) return undefined;
  return { ingestId: parsed.data.ingestId, object: { key, size: bytes.length, sha256: sha256Hex(bytes) } };
}

export interface Slot {
  version: number;
  claim: StoredObject;
}

/** Claims the next free slot for `ingestId`. */
export async function claimVersion(store: ArtifactStore, name: string, ingestId: string): Promise<Slot> {
  const slots = await versionSlots(store, name);
  let version = (slots.at(-1) ?? 0) + 1;
  for (let tries = 0; tries < 1000; tries++, version++) {
    try {
      const claim = await store.putJsonImmutable(`${datasetVersionPrefix(name, version)}/${CLAIM_FILE}`, { ingestId, claimedAt: new Date().toISOString() });
      return { version, claim };
    } catch (err) {
      if (!(err instanceof ObjectExistsError)) throw err;
    }
  }
  throw new Error(`could not claim a version of dataset "${name}" after 1000 tries`);
}

export type OwnWork = { kind: 'committed'; manifest: Manifest<DatasetMeta> } | { kind: 'claimed'; slot: Slot };

/**
 * What an earlier attempt of the same ingest left: a committed version (the attempt finished but
 * its result was lost) or a claimed slot to finish. Newest slots first: a retry follows closely.
 */
export async function findOwnWork(store: ArtifactStore, name: string, ingestId: string): Promise<OwnWork | undefined> {
  for (const version of (await versionSlots(store, name)).reverse()) {
    const manifest = await readVersionManifest(store, name, version);
    if (manifest) {
      if (manifest.meta.ingestId === ingestId) return { kind: 'committed', manifest };
      continue;
    }
    const claim = await readClaim(store, name, version);
    if (claim?.ingestId === ingestId) return { kind: 'claimed', slot: { version, claim: claim.object } };
  }
  return undefined;
}

/** Removes everything an unfinished slot holds except its claim, so the slot can be written afresh. */
export async function clearSlot(store: ArtifactStore, name: string, slot: Slot): Promise<void> {
  await abortUnfinishedUploads(store, name, slot.version);
  for (const { key } of await store.listObjects(datasetVersionPrefix(name, slot.version))) {
    if (key !== slot.claim.key) await store.delete(key);
  }
}

/** Deletes the uncommitted slots claimed by `ingestId` (never a committed version); returns how many. */
export async function discardUncommitted(store: ArtifactStore, name: string, ingestId: string): Promise<number> {
  let discarded = 0;
  for (const version of await versionSlots(store, name)) {
    if (await readVersionManifest(store, name, version)) continue;
    const claim = await readClaim(store, name, version);
    if (claim?.ingestId !== ingestId) continue;
    await abortUnfinishedUploads(store, name, version);
    await store.deletePrefix(datasetVersionPrefix(name, version));
    discarded++;
  }
  return discarded;
}
