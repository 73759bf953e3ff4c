// The job's inserted canaries (engine/audit/inserted-canaries.ts): drawn from the job's run key, so
// a retried prepare draws the same, and committed beside the train slots they were appended to,
// with which ones were trained on, for the audit to read back.
import { hkdfSync } from 'node:crypto';
import { z } from 'zod';
import { canaryTokens, drawInsertedCanaries } from '../../engine/audit/index.ts';
import { END_OF_TEXT_ID } from '../../engine/tokenizer/gpt2-tokenizer.ts';
import type { ArtifactStore } from '../../infra/storage/index.ts';
import { runKeyFor } from '../training/run-secrets.ts';

export const INSERTED_CANARIES_FILE = 'inserted-canaries.json';

const fileSchema = z.object({ canaries: z.array(z.object({ text: z.string(), included: z.boolean(), tokens: z.array(z.number().int()) })) });
export type InsertedCanarySlot = z.output<typeof fileSchema>['canaries'][number];

/** m canaries for the job, each with the token slot it fills when included (cut to maxSeqLen). */
export async function insertedCanarySlots(store: ArtifactStore, jobId: string, m: number, maxSeqLen: number): Promise<InsertedCanarySlot[]> {
  const runKey = await runKeyFor(store, jobId);
  const ikm = runKey.exposeBytes();
  let key: Uint8Array;
  try {
    // Its own HKDF label: independent of the noise and sampling streams the same key drives.
    key = new Uint8Array(hkdfSync('sha256', ikm, 'veil-audit-canaries-1', 'inserted-canaries', 32));
  } finally {
    ikm.fill(0);
  }
  return drawInsertedCanaries(key, m).map((c) => ({ ...c, tokens: canaryTokens(c.text, END_OF_TEXT_ID).slice(0, maxSeqLen) }));
}

export function encodeInsertedCanaries(canaries: InsertedCanarySlot[]): Buffer {
  return Buffer.from(JSON.stringify({ canaries }));
}

/** The canaries committed with a run's data, or null when the job inserted none. */
export async function readInsertedCanaries(store: ArtifactStore, dataPrefix: string): Promise<InsertedCanarySlot[] | null> {
  const manifest = await store.tryReadManifest(dataPrefix);
  if (!manifest?.entries[INSERTED_CANARIES_FILE]) return null;
  return fileSchema.parse(JSON.parse((await store.getEntryBuffer(manifest, INSERTED_CANARIES_FILE)).toString('utf8'))).canaries;
}
