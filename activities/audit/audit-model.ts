// The audit activity (veil-gpu): loads a registered model, the train/test tokens of the run that
// made it, the job's inserted canaries and the data owner's canaries of its dataset, runs
// engine/audit, and commits audits/<modelId>/{audit.json, audit.html} under
// their own manifest (models/<id>/ is committed and immutable, so the audit cannot go there).
// Idempotent: a committed audit is returned as is. The manifest's meta holds the summary, the
// only part an analyst of a DP model may see (see engine/audit/report.ts).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApplicationFailure, Context } from '@temporalio/activity';
import { z } from 'zod';
import {
  auditDocument,
  renderAuditHtml,
  type AuditSummary,
  type AnalystAuditSummary,
  analystAuditSummary,
  type AuditedModel,
  type PrivacyAudit,
} from '../../engine/audit/index.ts';
import { ObjectNotFoundError, auditPrefix, commitOnce, modelPrefix, runDataPrefix, type ArtifactStore, type Manifest } from '../../infra/storage/index.ts';
import { modelPrivacySchema } from '../models/registry.ts';
import { runComputeInWorker } from '../shared/compute-worker.ts';
import { sharedStore } from '../shared/resources.ts';
import { materializeRegisteredModel } from '../training/base-model.ts';
import { defaultDelta } from '../training/preflight.ts';
import { downloadTokenizedRows, usableRows } from '../training/tokenized-rows.ts';
import { readInsertedCanaries } from './inserted-canaries.ts';
import type { FolderAudit } from './audit-model-worker.ts';
import { readOwnerCanaries } from './owner-canaries.ts';

const AUDIT_WORKER = new URL('./audit-model-worker.ts', import.meta.url);

export interface AuditModelInput {
  modelId: string;
  /** The run whose data trained the model; default the jobId in the model's veil.json. */
  jobId?: string;
  /** Where train.tokens and test.tokens are committed; default runs/<jobId>/data. */
  dataPrefix?: string;
  /** Rows scored per side for membership inference (default 500). */
  maxRowsPerSide?: number;
}

export interface AuditModelOutput {
  modelId: string;
  prefix: string;
  jsonKey: string;
  htmlKey: string;
  /** What the analyst may see (this travels through history): no membership numbers for a DP model. */
  summary: AnalystAuditSummary;
}

export const AUDIT_NOT_POSSIBLE = 'AuditNotPossible';

const auditMetaSchema = z.object({ modelId: z.string(), createdAt: z.string(), summary: z.record(z.string(), z.unknown()) });

function outputOf(manifest: Manifest<z.output<typeof auditMetaSchema>>): AuditModelOutput {
  return {
    modelId: manifest.meta.modelId,
    prefix: manifest.prefix,
    jsonKey: `${manifest.prefix}/audit.json`,
    htmlKey: `${manifest.prefix}/audit.html`,
    summary: analystAuditSummary(manifest.meta.summary as AuditSummary),
  };
}

export async function auditModel(input: AuditModelInput): Promise<AuditModelOutput> {
  const store = await sharedStore();
  const prefix = auditPrefix(input.modelId);
  const existing = await store.tryReadManifest(prefix, auditMetaSchema);
  if (existing) return outputOf(existing);

  const modelManifest = await store.tryReadManifest(modelPrefix(input.modelId), modelPrivacySchema);
  if (!modelManifest) throw ApplicationFailure.nonRetryable(`model "${input.modelId}" is not registered`, 'ModelNotFound');
  const privacy = modelManifest.meta;
  const dataPrefix = input.dataPrefix ?? runDataPrefix(input.jobId ?? privacy.jobId);
  // The owner's secrets are read here, on the worker, never passed through a workflow.
  const canaries = privacy.dataset ? await readOwnerCanaries(store, privacy.dataset.name) : [];
  // The heartbeat timeout runs from the activity's start: beat between the slow steps before the
  // audit's own progress reports (downloads, parsing, session builds).
  const ctx = Context.current();
  const [trainSlots, testSlots, inserted] = await Promise.all([rowsOf(store, dataPrefix, 'train.tokens'), rowsOf(store, dataPrefix, 'test.tokens'), readInsertedCanaries(store, dataPrefix)]);
  // The inserted canaries' slots come after the real rows' (prepare-data.ts): membership scores real rows only.
  const trainRows = usableRows(trainSlots.slice(0, trainSlots.length - (inserted?.length ?? 0)));
  const testRows = usableRows(testSlots);
  ctx.heartbeat({ phase: 'loading' });

  const dir = await mkdtemp(join(tmpdir(), 'veil-audit-'));
  try {
    // model.safetensors, or transformers' shards and their index; an adapter-only DP-LoRA model is
    // merged onto its base here.
    await materializeRegisteredModel(store, input.modelId, dir);
    ctx.heartbeat({ phase: 'loading' });
    // Loading and the audit's scoring run in a worker thread: this one keeps heartbeating (with the
    // phase the audit reports) and hears cancellation.
    const audit = await runComputeInWorker<FolderAudit, PrivacyAudit>(
      AUDIT_WORKER,
      'auditFromFolder',
      {
        dir,
        audit: {
          canaries,
          trainRows,
          inserted: inserted ? {
            rows: inserted.map((c) => c.tokens),
            included: inserted.map((c) => c.included),
            // A non-DP model has no δ of its own: the bound is stated at the δ a DP run of this size would use.
            delta: privacy.delta ?? defaultDelta(privacy.trainRows),
          } : undefined,
          testRows,
          maxRowsPerSide: input.maxRowsPerSide,
        },
      },
      { phase: 'loading' },
    );
    const model: AuditedModel = {
      modelId: input.modelId,
      epsilon: privacy.epsilon,
      delta: privacy.delta,
      base: privacy.base,
      dataset: privacy.dataset,
      trainRows: privacy.trainRows,
    };
    const doc = auditDocument(model, audit);
    // Another attempt that committed first: its audit stands.
    const { manifest } = await commitOnce(
      store,
      prefix,
      async (w) => {
        await w.put('audit.json', Buffer.from(JSON.stringify(doc, null, 1) + '\n'), { contentType: 'application/json' });
        await w.put('audit.html', Buffer.from(renderAuditHtml(doc)), { contentType: 'text/html; charset=utf-8' });
        return { modelId: input.modelId, createdAt: doc.createdAt, summary: doc.summary };
      },
      { metaSchema: auditMetaSchema },
    );
    return outputOf(manifest);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function rowsOf(store: ArtifactStore, prefix: string, file: string): Promise<Int32Array[]> {
  try {
    return await downloadTokenizedRows(store, prefix, file);
  } catch (err) {
    if (err instanceof ObjectNotFoundError) throw ApplicationFailure.nonRetryable(`no committed ${file} under ${prefix}/ (${err.message})`, AUDIT_NOT_POSSIBLE);
    throw err;
  }
}
