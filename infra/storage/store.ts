// ArtifactStore: Veil's only way to read and write S3. Artifacts are immutable (create-only
// writes), every read of a committed artifact is checked against the sha256 and size its manifest
// recorded, and bodies stream both ways so a multi-GB checkpoint is never held in memory.
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import type { Client } from 'minio';
import { config, type VeilConfig } from '../config.ts';
import { ensureBucket, s3Client } from './client.ts';
import { ObjectNotFoundError, isNotFound } from './errors.ts';
import { VerifyingStream, type ObjectDigest } from './hashing.ts';
import { assertKey, normalizePrefix } from './keys.ts';
import { readManifest, tryReadManifest, verifyManifest, writeManifest, type Manifest, type ManifestEntry, type StoredObject } from './manifest.ts';
import { uploadCreateOnly, type UploadBody, type UploadOptions } from './upload.ts';
import type { z } from 'zod';

export type { StoredObject };

export interface StoreOptions {
  /** Multipart part size in bytes (≥ 5 MiB); memory per upload is about twice this. */
  partSize?: number;
}

function contentTypeFor(key: string): string {
  if (key.endsWith('.json')) return 'application/json';
  if (key.endsWith('.jsonl')) return 'application/x-ndjson';
  return 'application/octet-stream';
}

export class ArtifactStore {
  constructor(
    readonly client: Client,
    readonly bucket: string,
    private readonly options: StoreOptions = {},
  ) {}

  /** The store on the configured S3 endpoint and bucket (the bucket is created if missing). */
  static async fromConfig(cfg: VeilConfig = config(), options: StoreOptions = {}): Promise<ArtifactStore> {
    const client = s3Client(cfg);
    await ensureBucket(client, cfg);
    return new ArtifactStore(client, cfg.VEIL_S3_BUCKET, options);
  }

  // ── immutable writes ───────────────────────────────────────────────────────────────────────

  /**
   * Writes `body` (bytes or a stream) to `key`, hashing it on the fly. Throws ObjectExistsError
   * when the key already holds an object, whoever wrote it and even if the bytes are equal.
   */
  async putImmutable(key: string, body: UploadBody, options: UploadOptions = {}): Promise<StoredObject> {
    assertKey(key);
    const digest = await uploadCreateOnly(this.client, this.bucket, key, body, {
      partSize: this.options.partSize,
      contentType: contentTypeFor(key),
      ...options,
    });
    return { key, ...digest };
  }

  /** Writes a value as pretty JSON (create-only). */
  putJsonImmutable(key: string, value: unknown): Promise<StoredObject> {
    return this.putImmutable(key, `${JSON.stringify(value, null, 2)}\n`);
  }

  // ── verified reads ─────────────────────────────────────────────────────────────────────────

  /**
   * A stream of the object's bytes that fails with IntegrityError when they are not the expected
   * ones (too many bytes: at once; too few or another sha256: at the end). Consume it with
   * stream.pipeline or for-await and trust the data only once it ended without error.
   */
  async getVerified(key: string, expected: ObjectDigest): Promise<Readable> {
    const source = await this.getRaw(key);
    const verifier = new VerifyingStream(key, expected);
    // pipeline() destroys both on error and forwards the error to the verifier's readers.
    pipeline(source, verifier).catch(() => {});
    return verifier;
  }

  /** The whole object in memory, verified (for small objects: manifests, configs, schemas). */
  async getVerifiedBuffer(key: string, expected: ObjectDigest): Promise<Buffer> {
    return collect(await this.getVerified(key, expected));
  }

  async getVerifiedJson(key: string, expected: ObjectDigest): Promise<unknown> {
    return JSON.parse((await this.getVerifiedBuffer(key, expected)).toString('utf8')) as unknown;
  }

  /**
   * An object's bytes with no integrity check: only for objects that no manifest describes
   * (staging uploads, manifests themselves). Throws ObjectNotFoundError when absent.
   */
  async getRaw(key: string): Promise<Readable> {
    assertKey(key);
    try {
      return await this.client.getObject(this.bucket, key);
    } catch (err) {
      if (isNotFound(err)) throw new ObjectNotFoundError(key);
      throw err;
    }
  }

  // ── listing, existence, deletion ───────────────────────────────────────────────────────────

  /** The object's size, or undefined when there is no object at `key`. */
  async stat(key: string): Promise<{ size: number } | undefined> {
    assertKey(key);
    try {
      const s = await this.client.statObject(this.bucket, key);
      return { size: s.size };
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async exists(key: string): Promise<boolean> {
    return (await this.stat(key)) !== undefined;
  }

  /** The names of the "folders" directly under `prefix`: listPrefixes('datasets') → ['a', 'b']. */
  async listPrefixes(prefix: string): Promise<string[]> {
    const p = `${normalizePrefix(prefix)}/`;
    const names: string[] = [];
    for await (const item of this.client.listObjectsV2(this.bucket, p, false)) {
      if ('prefix' in item && item.prefix) names.push(item.prefix.slice(p.length).replace(/\/$/, ''));
    }
    return names.sort();
  }

  /** Every object under `prefix` (recursively), with its size. */
  async listObjects(prefix: string): Promise<{ key: string; size: number }[]> {
    const p = `${normalizePrefix(prefix)}/`;
    const out: { key: string; size: number }[] = [];
    for await (const item of this.client.listObjectsV2(this.bucket, p, true)) {
      if ('name' in item && item.name) out.push({ key: item.name, size: item.size });
    }
    return out;
  }

  /** Deletes one object (no error if it is already gone). */
  async delete(key: string): Promise<void> {
    assertKey(key);
    await this.client.removeObject(this.bucket, key);
  }

  /**
   * Deletes every object under `prefix` (and, where the server can list them by prefix, the
   * parts of unfinished uploads there); returns how many objects. For uncommitted work only:
   * committed artifacts are immutable and referenced by manifests, ledgers and audit trails.
   */
  async deletePrefix(prefix: string): Promise<number> {
    await this.abortIncompleteUploads(`${normalizePrefix(prefix)}/`);
    const keys = (await this.listObjects(prefix)).map((o) => o.key);
    for (let i = 0; i < keys.length; i += 1000) await this.client.removeObjects(this.bucket, keys.slice(i, i + 1000));
    return keys.length;
  }

  /**
   * Aborts the multipart uploads of `keyOrPrefix` that never completed (their writer died, or the
   * server was unreachable when it tried to abort): their parts use space but are no object.
   * MinIO lists unfinished uploads only by exact key, AWS S3 by prefix too: pass the key.
   */
  async abortIncompleteUploads(keyOrPrefix: string): Promise<number> {
    const uploads: { key: string; uploadId: string }[] = [];
    for await (const u of this.client.listIncompleteUploads(this.bucket, keyOrPrefix, true)) uploads.push(u);
    // By id: a key can have several unfinished uploads (one per failed attempt).
    for (const u of uploads) {
      await this.client.abortMultipartUpload(this.bucket, u.key, u.uploadId).catch((err: unknown) => {
        if (!isNotFound(err)) throw err;
      });
    }
    return uploads.length;
  }

  // ── manifests: the commit point of a prefix ────────────────────────────────────────────────

  /**
   * Commits `prefix`: writes <prefix>/manifest.json (create-only) listing the sha256 and size of
   * each object. Write it last; until it exists the prefix is unfinished and readers ignore it.
   * Throws ObjectExistsError when the prefix was already committed (by anyone).
   */
  writeManifest<M extends Record<string, unknown>>(prefix: string, entries: StoredObject[], meta: M): Promise<Manifest<M>> {
    return writeManifest(this, prefix, entries, meta);
  }

  /** Reads and checks <prefix>/manifest.json; throws ObjectNotFoundError / ManifestError. */
  readManifest<S extends z.ZodType<Record<string, unknown>>>(prefix: string, metaSchema?: S): Promise<Manifest<z.output<S>>> {
    return readManifest(this, prefix, metaSchema);
  }

  /** Like readManifest, but undefined when the prefix has no manifest (is not committed). */
  tryReadManifest<S extends z.ZodType<Record<string, unknown>>>(prefix: string, metaSchema?: S): Promise<Manifest<z.output<S>> | undefined> {
    return tryReadManifest(this, prefix, metaSchema);
  }

  /** A verified stream of one file of a committed prefix, by its path relative to the prefix. */
  getEntry(manifest: Manifest<Record<string, unknown>>, path: string): Promise<Readable> {
    const entry: ManifestEntry | undefined = manifest.entries[path];
    if (!entry) throw new ObjectNotFoundError(`${manifest.prefix}/${path}`);
    return this.getVerified(`${manifest.prefix}/${path}`, entry);
  }

  /** One file of a committed prefix in memory, verified (small files: configs, token lists, checkpoints that fit). */
  async getEntryBuffer(manifest: Manifest<Record<string, unknown>>, path: string): Promise<Buffer> {
    return collect(await this.getEntry(manifest, path));
  }

  /** getRaw's bytes in memory: small objects that no manifest describes (claims, secrets). */
  async getRawBuffer(key: string): Promise<Buffer> {
    return collect(await this.getRaw(key));
  }

  /** A small JSON object that no manifest describes, parsed; undefined when there is none at `key`. */
  async tryGetRawJson(key: string): Promise<unknown> {
    try {
      return JSON.parse((await this.getRawBuffer(key)).toString('utf8')) as unknown;
    } catch (err) {
      if (err instanceof ObjectNotFoundError) return undefined;
      throw err;
    }
  }

  /** Re-reads every object of a committed prefix and checks it; throws IntegrityError on the first bad one. */
  verifyManifest(manifest: Manifest<Record<string, unknown>>): Promise<void> {
    return verifyManifest(this, manifest);
  }
}

async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
