// Manifests: <prefix>/manifest.json lists every object of a prefix with its sha256 and size, plus
// free-form metadata. Written last and create-only, it is the commit point of the prefix: readers
// only trust prefixes that have one, and only bytes that match it.
import { z } from 'zod';
import { ManifestError, ObjectNotFoundError, isNotFound } from './errors.ts';
import type { ObjectDigest } from './hashing.ts';
import { manifestKey, normalizePrefix } from './keys.ts';

/** A stored object: its key and what a verified read will check. */
export interface StoredObject extends ObjectDigest {
  key: string;
}

/** What manifests need of a store: the store passes itself (kept structural so neither file imports the other). */
export interface ManifestIo {
  stat(key: string): Promise<{ size: number } | undefined>;
  getRaw(key: string): Promise<AsyncIterable<unknown>>;
  putJsonImmutable(key: string, value: unknown): Promise<StoredObject>;
  getEntry(manifest: Manifest, path: string): Promise<AsyncIterable<unknown>>;
}

export const MANIFEST_FORMAT = 'veil-manifest/1';
/** Manifests are small; a bigger one is not ours (and must not be read into memory). */
const MAX_MANIFEST_BYTES = 16 * 1024 * 1024;

const entrySchema = z.object({
  size: z.number().int().nonnegative(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});
export type ManifestEntry = z.output<typeof entrySchema>;

const manifestSchema = z.object({
  format: z.literal(MANIFEST_FORMAT),
  prefix: z.string(),
  createdAt: z.string(),
  /** Path relative to the prefix → digest. */
  entries: z.record(z.string(), entrySchema),
  meta: z.record(z.string(), z.unknown()),
});

export interface Manifest<M extends Record<string, unknown> = Record<string, unknown>> {
  format: typeof MANIFEST_FORMAT;
  prefix: string;
  createdAt: string;
  entries: Record<string, ManifestEntry>;
  meta: M;
}

export async function writeManifest<M extends Record<string, unknown>>(
  store: ManifestIo,
  prefix: string,
  objects: StoredObject[],
  meta: M,
): Promise<Manifest<M>> {
  const p = normalizePrefix(prefix);
  const entries: Record<string, ManifestEntry> = {};
  for (const o of objects) {
    if (!o.key.startsWith(`${p}/`)) throw new ManifestError(`object "${o.key}" is not under the manifest's prefix "${p}/"`);
    const path = o.key.slice(p.length + 1);
    if (path === 'manifest.json') throw new ManifestError('a manifest cannot list itself');
    entries[path] = { size: o.size, sha256: o.sha256 };
  }
  // Cheap guard against committing a prefix whose objects were removed or replaced meanwhile.
  for (const o of objects) {
    const s = await store.stat(o.key);
    if (!s) throw new ManifestError(`cannot commit "${p}/": object "${o.key}" does not exist`);
    if (s.size !== o.size) throw new ManifestError(`cannot commit "${p}/": object "${o.key}" has ${s.size} bytes, expected ${o.size}`);
  }
  const manifest: Manifest<M> = { format: MANIFEST_FORMAT, prefix: p, createdAt: new Date().toISOString(), entries, meta };
  await store.putJsonImmutable(manifestKey(p), manifest);
  return manifest;
}

async function readManifestText(store: ManifestIo, key: string): Promise<string> {
  const size = (await store.stat(key))?.size;
  if (size === undefined) throw new ObjectNotFoundError(key);
  if (size > MAX_MANIFEST_BYTES) throw new ManifestError(`manifest "${key}" is ${size} bytes, more than a manifest can be`);
  const chunks: Buffer[] = [];
  for await (const chunk of await store.getRaw(key)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function readManifest<S extends z.ZodType<Record<string, unknown>>>(
  store: ManifestIo,
  prefix: string,
  metaSchema?: S,
): Promise<Manifest<z.output<S>>> {
  const p = normalizePrefix(prefix);
  const key = manifestKey(p);
  const text = await readManifestText(store, key);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ManifestError(`manifest "${key}" is not valid JSON (corrupted or truncated)`);
  }
  const parsed = manifestSchema.safeParse(json);
  if (!parsed.success) throw new ManifestError(`manifest "${key}" is malformed: ${z.prettifyError(parsed.error)}`);
  if (parsed.data.prefix !== p) throw new ManifestError(`manifest "${key}" describes prefix "${parsed.data.prefix}", not "${p}"`);
  let meta: z.output<S> = parsed.data.meta as z.output<S>;
  if (metaSchema) {
    const m = metaSchema.safeParse(parsed.data.meta);
    if (!m.success) throw new ManifestError(`manifest "${key}" has unexpected metadata: ${z.prettifyError(m.error)}`);
    meta = m.data;
  }
  return { ...parsed.data, format: MANIFEST_FORMAT, meta };
}

export async function tryReadManifest<S extends z.ZodType<Record<string, unknown>>>(
  store: ManifestIo,
  prefix: string,
  metaSchema?: S,
): Promise<Manifest<z.output<S>> | undefined> {
  try {
    return await readManifest(store, prefix, metaSchema);
  } catch (err) {
    if (err instanceof ObjectNotFoundError || isNotFound(err)) return undefined;
    throw err;
  }
}

export async function verifyManifest(store: ManifestIo, manifest: Manifest): Promise<void> {
  for (const path of Object.keys(manifest.entries)) {
    // Reading to the end is what runs the size and sha256 checks.
    for await (const _chunk of await store.getEntry(manifest, path));
  }
}
