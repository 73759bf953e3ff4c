// Downloading a registered model into a folder that transformers opens unchanged (config.json,
// the safetensors or its shards with their index, the tokenizer files, generation_config.json and
// veil.json with the privacy metadata). The modelDownload workflow checks the signed request
// against the release rules and answers with presigned GET URLs; each file is fetched, hashed on
// the way and kept only when its size and sha256 match what the registry committed.
import { randomUUID, createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { WorkflowFailedError, type Client } from '@temporalio/client';
import { Failure, isAccessRefusal } from '../../contracts/failures.ts';
import { MODEL_DOWNLOAD_ACTION, MODEL_DOWNLOAD_WORKFLOW, isModelFileName, type ModelDownloadResult, type ModelFileLink } from '../../contracts/models.ts';
import { signRequest } from '../../infra/access/index.ts';
import { applicationCause } from './failures.ts';

export interface ModelsConnection {
  temporal: Client;
  taskQueue: string;
  token: string;
}

export interface DownloadedModel {
  modelId: string;
  dir: string;
  epsilon: ModelDownloadResult['epsilon'];
  delta: number | null;
  readAs: ModelDownloadResult['readAs'];
  files: { path: string; size: number; sha256: string }[];
}

/**
 * A download that did not happen: refused (exitCode 4, `failureType` Forbidden or Unauthenticated),
 * no such model (exitCode 2), or a file that did not arrive as the registry committed it (exitCode 1;
 * nothing of that file is left in the folder).
 */
export class ModelDownloadError extends Error {
  override name = 'ModelDownloadError';
  constructor(message: string, readonly exitCode = 1, readonly failureType?: string) {
    super(message);
  }
}

/** The workers' answer: the links, or a ModelDownloadError that says why not. */
async function requestLinks(connection: ModelsConnection, modelId: string): Promise<ModelDownloadResult> {
  try {
    return await connection.temporal.workflow.execute(MODEL_DOWNLOAD_WORKFLOW, {
      taskQueue: connection.taskQueue,
      workflowId: `model-download-${modelId}-${randomUUID().slice(0, 8)}`,
      args: [signRequest(connection.token, MODEL_DOWNLOAD_ACTION, { modelId })],
    });
  } catch (err) {
    if (!(err instanceof WorkflowFailedError)) throw err;
    const cause = applicationCause(err);
    const type = cause?.type ?? undefined;
    const exitCode = isAccessRefusal(type) ? 4 : type === Failure.ModelNotFound || type === Failure.InvalidInput ? 2 : 1;
    throw new ModelDownloadError(`model ${modelId} was not downloaded: ${cause?.message ?? err.message}`, exitCode, type);
  }
}

/** Fetches one file to `dir/<path>`, through a temporary name, checking its size and digest. */
async function fetchFile(file: ModelFileLink, dir: string): Promise<void> {
  if (!isModelFileName(file.path)) throw new ModelDownloadError(`refusing to write "${file.path}": not a plain file name or one folder deep`);
  const response = await fetch(file.url);
  // The URL carries a signature: errors name the file, never the URL.
  if (!response.ok || !response.body) throw new ModelDownloadError(`${file.path}: the object store answered HTTP ${response.status}`);
  const hash = createHash('sha256');
  let size = 0;
  const counting = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      size += chunk.length;
      done(null, chunk);
    },
  });
  const target = join(dir, file.path);
  await mkdir(dirname(target), { recursive: true });
  const partial = `${target}.partial-${randomUUID().slice(0, 8)}`;
  try {
    await pipeline(Readable.fromWeb(response.body as WebReadableStream<Uint8Array>), counting, createWriteStream(partial));
    const sha256 = hash.digest('hex');
    if (size !== file.size || sha256 !== file.sha256) {
      throw new ModelDownloadError(`${file.path}: received ${size} bytes with sha256 ${sha256}, expected ${file.size} bytes with sha256 ${file.sha256}`);
    }
    await rename(partial, target);
  } finally {
    await rm(partial, { force: true });
  }
}

/** Asks the workers for the model's files (as the token's principal) and writes them into `dir`. */
export async function downloadModel(connection: ModelsConnection, modelId: string, dir: string): Promise<DownloadedModel> {
  const links = await requestLinks(connection, modelId);
  await mkdir(dir, { recursive: true });
  // A few at a time: a large model is several shards.
  const queue = [...links.files];
  const workers = Array.from({ length: Math.min(4, queue.length) }, async () => {
    for (let file = queue.shift(); file; file = queue.shift()) await fetchFile(file, dir);
  });
  await Promise.all(workers);
  return {
    modelId: links.modelId,
    dir,
    epsilon: links.epsilon,
    delta: links.delta,
    readAs: links.readAs,
    files: links.files.map(({ path, size, sha256 }) => ({ path, size, sha256 })),
  };
}
