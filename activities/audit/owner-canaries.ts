// The data owner's canaries: secret sentences registered per dataset and looked for in every model
// trained on it. The owner stages a JSON Lines file of {prompt, secret} (the sentences never travel
// through a workflow's history), the activity checks the owner's signature, validates the file
// (errors name line numbers, never text) and commits it as one set under
// datasets/<name>/canaries/<setId>/. Every audit reads all sets of its dataset.
import { ApplicationFailure } from '@temporalio/activity';
import { z } from 'zod';
import { MAX_OWNER_CANARIES, OWNER_CANARIES_ACTION, ownerCanarySchema, registerOwnerCanariesSchema, type OwnerCanary, type RegisterOwnerCanariesResult } from '../../contracts/audit.ts';
import { Failure } from '../../contracts/failures.ts';
import { ownerCanarySpec } from '../../engine/audit/index.ts';
import { commitOnce, ownerCanariesPrefix, ownerCanarySetPrefix, type ArtifactStore } from '../../infra/storage/index.ts';
import { sharedStore } from '../shared/resources.ts';
import { requireDatasetOwner, verifySigner } from './owner-auth.ts';

const setMetaSchema = z.object({ dataset: z.string(), owner: z.string(), count: z.number().int() });
const canariesFileSchema = z.array(ownerCanarySchema);

/** Every canary registered for `dataset` (workers only: they are the owner's secrets). */
export async function readOwnerCanaries(store: ArtifactStore, dataset: string): Promise<OwnerCanary[]> {
  const out = new Map<string, OwnerCanary>();
  for (const setId of (await store.listPrefixes(ownerCanariesPrefix(dataset))).sort()) {
    const manifest = await store.tryReadManifest(ownerCanarySetPrefix(dataset, setId), setMetaSchema);
    if (!manifest) continue; // unfinished
    const chunks: Buffer[] = [];
    for await (const chunk of await store.getEntry(manifest, 'canaries.json')) chunks.push(chunk as Buffer);
    for (const c of canariesFileSchema.parse(JSON.parse(Buffer.concat(chunks).toString('utf8')))) out.set(c.secret, c);
  }
  return [...out.values()];
}

function invalid(message: string): ApplicationFailure {
  return ApplicationFailure.nonRetryable(message, Failure.InvalidInput);
}

/** Parses the staged JSON Lines file; each problem names its line, never its content. */
export function parseOwnerCanaries(text: string): OwnerCanary[] {
  const canaries: OwnerCanary[] = [];
  const problems: string[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      problems.push(`line ${i + 1}: not JSON`);
      return;
    }
    const parsed = ownerCanarySchema.safeParse(value);
    if (!parsed.success) {
      problems.push(`line ${i + 1}: ${parsed.error.issues.map((x) => `${x.path.join('.') || 'canary'}: ${x.message}`).join('; ')}`);
      return;
    }
    try {
      ownerCanarySpec(parsed.data.prompt, parsed.data.secret);
    } catch (err) {
      problems.push(`line ${i + 1}: ${err instanceof Error ? err.message : String(err)}`);
      return;
    }
    canaries.push(parsed.data);
  });
  if (problems.length > 0) throw invalid(`the canaries file has ${problems.length} problem(s): ${problems.slice(0, 10).join(' | ')}`);
  if (canaries.length === 0) throw invalid('the canaries file holds no canary (one JSON object {"prompt", "secret"} per line)');
  return canaries;
}

export async function registerOwnerCanaries(request: unknown): Promise<RegisterOwnerCanariesResult> {
  const parsed = registerOwnerCanariesSchema.safeParse(request);
  if (!parsed.success) throw invalid(`invalid canaries request: ${parsed.error.issues.map((x) => `${x.path.join('.')}: ${x.message}`).join('; ')}`);
  const { dataset, upload } = parsed.data;
  const store = await sharedStore();
  const setId = upload.key.slice('uploads/'.length);
  const prefix = ownerCanarySetPrefix(dataset, setId);
  const existing = await store.tryReadManifest(prefix, setMetaSchema);
  if (!existing) {
    const signer = await verifySigner(store, OWNER_CANARIES_ACTION, request as Record<string, unknown>, true);
    await requireDatasetOwner(store, signer, dataset);
    const canaries = parseOwnerCanaries((await store.getVerifiedBuffer(upload.key, { size: upload.size, sha256: upload.sha256 })).toString('utf8'));
    const already = await readOwnerCanaries(store, dataset);
    const total = new Set([...already, ...canaries].map((c) => c.secret)).size;
    if (total > MAX_OWNER_CANARIES) throw invalid(`a dataset holds at most ${MAX_OWNER_CANARIES} canaries (this file would make ${total})`);
    await commitOnce(
      store,
      prefix,
      async (w) => {
        await w.put('canaries.json', Buffer.from(JSON.stringify(canaries)), { contentType: 'application/json' });
        return { dataset, owner: signer.id, count: canaries.length };
      },
      { metaSchema: setMetaSchema },
    );
  }
  const manifest = existing ?? (await store.readManifest(prefix, setMetaSchema));
  return { dataset, added: manifest.meta.count, total: (await readOwnerCanaries(store, dataset)).length };
}
