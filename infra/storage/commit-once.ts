// Commit-once: the one way Veil writes a prefix that must exist whole or not at all (a dataset
// version's derivatives, a checkpoint, a registered model, an audit, a synthetic twin). Every
// attempt of a job may call it; the first attempt to commit wins and every later one, or a
// concurrent one that lost the race, gets the committed manifest back unchanged.
//
//   read the manifest → (committed: return it) → clear an earlier attempt's leftovers →
//   write the objects → write the manifest (create-only) → (lost the race: return the winner's)
import type { z } from 'zod';
import { ObjectExistsError } from './errors.ts';
import type { Manifest, StoredObject } from './manifest.ts';
import type { ArtifactStore } from './store.ts';
import type { UploadBody, UploadOptions } from './upload.ts';

/** Writes the objects of one prefix; paths are relative to it. */
export interface PrefixWriter {
  put(path: string, body: UploadBody, options?: UploadOptions): Promise<StoredObject>;
  putJson(path: string, value: unknown): Promise<StoredObject>;
}

export interface CommitOnceOptions<S extends z.ZodType<Record<string, unknown>>> {
  /** Checks the committed manifest's meta on read. */
  metaSchema?: S;
  /**
   * Keys whose unfinished multipart uploads an earlier attempt may have left: MinIO lists them by
   * exact key only, so a prefix-wide clean-up cannot find them.
   */
  largeObjects?: string[];
}

export interface Committed<M extends Record<string, unknown>> {
  manifest: Manifest<M>;
  /** True when this call wrote the prefix; false when it was already committed. */
  created: boolean;
}

/**
 * Commits `prefix` once: `fill` writes the objects and returns the manifest's meta. When the
 * prefix is already committed, `fill` does not run and the committed manifest comes back.
 */
export async function commitOnce<S extends z.ZodType<Record<string, unknown>>>(
  store: ArtifactStore,
  prefix: string,
  fill: (writer: PrefixWriter) => Promise<z.output<S>>,
  options: CommitOnceOptions<S> = {},
): Promise<Committed<z.output<S>>> {
  const existing = await store.tryReadManifest(prefix, options.metaSchema);
  if (existing) return { manifest: existing, created: false };
  for (const key of options.largeObjects ?? []) await store.abortIncompleteUploads(`${prefix}/${key}`);
  await store.deletePrefix(prefix); // objects of an attempt that died before committing
  const objects: StoredObject[] = [];
  const writer: PrefixWriter = {
    async put(path, body, uploadOptions) {
      const obj = await store.putImmutable(`${prefix}/${path}`, body, uploadOptions);
      objects.push(obj);
      return obj;
    },
    async putJson(path, value) {
      const obj = await store.putJsonImmutable(`${prefix}/${path}`, value);
      objects.push(obj);
      return obj;
    },
  };
  try {
    const meta = await fill(writer);
    return { manifest: await store.writeManifest(prefix, objects, meta), created: true };
  } catch (err) {
    // Another attempt wrote the same prefix meanwhile; if it committed, its manifest stands.
    if (err instanceof ObjectExistsError) {
      const winner = await store.tryReadManifest(prefix, options.metaSchema);
      if (winner) return { manifest: winner, created: false };
    }
    throw err;
  }
}
