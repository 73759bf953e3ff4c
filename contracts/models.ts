// Getting a registered model out: the modelDownload workflow's input and result. The caller signs
// the request; the workers check it against the release rules (activities/models/download.ts) and
// answer with short-lived presigned GET URLs, one per file of models/<id>/, with the digest each
// file must have. Clients fetch the URLs and check the digests: they hold no storage credentials.
// Node-free (workflows bundle it).
import { z } from 'zod';
import { requestAuthSchema } from './access.ts';
import { idSchema } from './ids.ts';

export const MODEL_DOWNLOAD_WORKFLOW = 'modelDownload';
/** The action the caller signs (infra/access); the download activity checks it itself. */
export const MODEL_DOWNLOAD_ACTION = 'modelDownload';
/** How long a download URL is good for: long enough to fetch a GPT-2-xl's shards, short enough to be worthless later. */
export const MODEL_DOWNLOAD_URL_SECONDS = 15 * 60;

export const modelDownloadSchema = z.object({ modelId: idSchema, auth: requestAuthSchema.optional() }).strict();
export type ModelDownloadInput = z.input<typeof modelDownloadSchema>;

/** One file of the model's folder (Hugging Face layout plus veil.json; a DP-LoRA model's PEFT adapter in adapter/). */
export interface ModelFileLink {
  /** The file's path inside the folder: a plain name, or one plain folder and a plain name ('adapter/adapter_config.json'). */
  path: string;
  size: number;
  sha256: string;
  /** A presigned GET URL, good until `expiresAt`. */
  url: string;
}

export interface ModelDownloadResult {
  modelId: string;
  /** The guarantee the model is released under (its whole lineage's): 'unlimited' for a non-DP model. */
  epsilon: number | 'unlimited';
  delta: number | null;
  /** Why the caller may read it: the model's analyst, the dataset's owner, or a privileged principal. */
  readAs: 'analyst' | 'data-owner' | 'privileged';
  files: ModelFileLink[];
  expiresAt: string;
}

const plainName = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;

/**
 * A path a download may write inside its folder: a plain name, or one plain folder then a plain
 * name (a LoRA model's adapter/). Nothing hidden, nothing absolute, no '..', no deeper nesting.
 */
export function isModelFileName(path: string): boolean {
  const parts = path.split('/');
  return parts.length <= 2 && parts.every((part) => plainName.test(part) && !part.includes('..'));
}
