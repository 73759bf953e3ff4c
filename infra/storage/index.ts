// The storage module's public surface: import from here, not from the files behind it.
export { ArtifactStore, type StoredObject, type StoreOptions } from './store.ts';
export { type Manifest, type ManifestEntry, MANIFEST_FORMAT } from './manifest.ts';
export { commitOnce, type Committed, type CommitOnceOptions, type PrefixWriter } from './commit-once.ts';
export { type ObjectDigest, VerifyingStream, sha256Hex } from './hashing.ts';
export { type UploadBody, type UploadOptions, DEFAULT_PART_SIZE, MIN_PART_SIZE } from './upload.ts';
export { IntegrityError, ManifestError, ObjectExistsError, ObjectNotFoundError } from './errors.ts';
export * from './keys.ts';
export { s3Client, ensureBucket } from './client.ts';
