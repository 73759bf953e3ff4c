// The demo: a data owner registers generated patient notes with a planted secret and grants an
// analyst a budget; a privileged researcher fine-tunes GPT-2 without DP, the analyst with DP; both
// models are sampled and audited; the leak and the protection are printed side by side. Every
// step is a Temporal workflow on the real servers (watch them in the UI), signed by the token of
// the principal who takes it.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { localPaths } from '../../infra/config.ts';
import type { FineTuneInput, FineTuneResult } from '../../contracts/fine-tune.ts';
import type { SampleResult } from '../../contracts/sample.ts';
import type { VeilClient } from '../sdk/client.ts';
import type { AuditSummary } from '../../engine/audit/index.ts';
import type { RegisterOwnerCanariesResult } from '../../contracts/audit.ts';
import { auditShare, type AuditShare } from './audit-share.ts';
import { generatePatientNotes, PLANTED_SECRET, SECRET_PREFIX } from './patient-notes.ts';
import { printComparison, type DemoSide } from './report.ts';

export const DEMO_DATASET = 'patient-notes';
export const DEMO_OWNER = 'hospital';
export const DEMO_ANALYST = 'analyst';
export const DEMO_PRIVILEGED = 'lead-researcher';
/** Inserted canaries per fine-tune (extra train slots, each filled with probability ½). */
export const DEMO_INSERTED_CANARIES = 200;

export interface DemoOptions {
  targetEpsilon: number;
  /** GPT-2 size to start from (random initialisation unless the HF cache holds it). */
  base: string;
  rows: number;
  secretCopies: number;
  epochs: number;
  log: (line: string) => void;
}

/**
 * The DP job's δ: far below 1/N (N ≈ 2,000 notes), since an analyst's δ adds up over jobs and the
 * grant's total must stay below 1/N; the demo can be rerun some fifty times on one dataset.
 */
const DEMO_DELTA = 1e-5;

/** The fine-tune settings of each side; chosen so the demo runs in minutes on 2 CPU cores. */
function fineTuneInput(analyst: string, targetEpsilon: number | 'unlimited', o: DemoOptions): FineTuneInput {
  const dp = targetEpsilon !== 'unlimited';
  return {
    analyst,
    dataset: { name: DEMO_DATASET },
    textColumn: 'note',
    split: { kind: 'ratio', testFraction: 0.1 },
    model: { base: o.base, seed: 'demo', maxSeqLen: 32 },
    // Random canaries of Veil's own for the one-run ε lower bound; the planted secret is the data
    // owner's canary, registered in S3 below: the fine-tune never names it.
    audit: { insertCanaries: DEMO_INSERTED_CANARIES },
    training: dp
      ? { targetEpsilon, delta: DEMO_DELTA, batchSize: 128, epochs: o.epochs * 2, maxGradNorm: 1, lr: 2e-2, physicalBatchSize: 32, accountant: 'prv', checkpointEvery: 25 }
      : { targetEpsilon, batchSize: 16, epochs: o.epochs, lr: 1e-2, physicalBatchSize: 32, checkpointEvery: 100 },
  };
}

async function fineTune(client: VeilClient, input: FineTuneInput, label: string, log: (l: string) => void): Promise<{ result: FineTuneResult; auditShare: AuditShare | null }> {
  const job = await client.startFineTune(input);
  log(`${label}: started ${job.workflowId}`);
  let last = '';
  const outcome = await client.watchFineTune(job.workflowId, {
    intervalMs: 2000,
    onUpdate: ({ activity }) => {
      const p = activity?.progress;
      const line = p && p.totalSteps > 0 ? `${label}: step ${p.step}/${p.totalSteps}, ε so far ${typeof p.epsilon === 'number' ? p.epsilon.toFixed(2) : p.epsilon}` : activity ? `${label}: ${activity.activity}` : '';
      if (line && line !== last) log((last = line));
    },
  });
  if (outcome.status !== 'completed') throw new Error(`${label} did not complete: ${outcome.status}: ${outcome.message}`);
  if (outcome.result.status !== 'completed') throw new Error(`${label}: ${outcome.result.message}`);
  return { result: outcome.result, auditShare: await auditShare(client.temporal, job.workflowId) };
}

async function samples(client: VeilClient, analyst: string, modelId: string, maxEpsilon: number | 'unlimited'): Promise<SampleResult> {
  const { outcome } = await client.sample({
    analyst,
    modelId,
    prompts: Array.from({ length: 5 }, () => SECRET_PREFIX),
    unconditional: 10,
    maxEpsilon,
    // Below 1 so that a tiny model's samples read as notes rather than word salad; the same
    // setting for both models (the DP model's greedy output, the coldest setting, is audited too).
    temperature: 0.7,
    topK: 40,
    maxNewTokens: 28,
  });
  if (outcome.status !== 'completed') throw new Error(`sampling ${modelId} failed: ${outcome.message}`);
  return outcome.result;
}

/** One client per principal: each signs its own requests. */
export interface DemoClients {
  owner: VeilClient;
  analyst: VeilClient;
  researcher: VeilClient;
  /** The data owner reading a model's audit report (S3: the owner's side, not the analyst's). */
  ownerAudit: (modelId: string) => Promise<AuditSummary | null>;
  /** The data owner registering canaries (clients/sdk/audit.ts addOwnerCanaries with the owner's token). */
  addOwnerCanaries?: (dataset: string, file: string) => Promise<RegisterOwnerCanariesResult>;
}

export async function runDemo({ owner, analyst, researcher, ownerAudit, addOwnerCanaries }: DemoClients, o: DemoOptions): Promise<{ leakWithoutDp: number; leakWithDp: number }> {
  const { log } = o;
  const dir = join(localPaths().home, 'demo');
  await mkdir(dir, { recursive: true });
  const file = join(dir, 'patient-notes.jsonl');
  const notes = generatePatientNotes({ rows: o.rows, secretCopies: o.secretCopies });
  await writeFile(file, notes.map((r) => JSON.stringify(r)).join('\n') + '\n');
  log(`data owner: ${notes.length} generated patient notes, the secret "${PLANTED_SECRET}" in ${o.secretCopies} of them`);
  const ingest = await owner.addDataset(DEMO_DATASET, file);
  log(`data owner: registered ${DEMO_DATASET} v${ingest.version} (${ingest.rows} rows, ${ingest.workflowId})`);
  if (addOwnerCanaries) {
    const canaries = join(dir, 'canaries.jsonl');
    await writeFile(canaries, JSON.stringify({ prompt: SECRET_PREFIX, secret: PLANTED_SECRET }) + '\n');
    const registered = await addOwnerCanaries(DEMO_DATASET, canaries);
    log(`data owner: registered the secret as a canary of ${DEMO_DATASET} (${registered.total} canary(ies) on it): every audit of a model trained on it looks for it`);
  } else log('data owner: no canary registration in this client: the audit has no owner canary to look for');
  // A grant sets the analyst's total; earlier demo runs spent some of it, so the owner raises it
  // to leave this run ε = target + 2 (δ likewise) on top of what is already spent.
  const before = await owner.budget({ dataset: DEMO_DATASET, analyst: DEMO_ANALYST });
  const used = { epsilon: before.committed.epsilon + before.reserved.epsilon, delta: before.committed.delta + before.reserved.delta };
  const grant = { epsilon: used.epsilon + o.targetEpsilon + 2, delta: used.delta + DEMO_DELTA };
  await owner.grantBudget({ dataset: DEMO_DATASET, analyst: DEMO_ANALYST, ...grant });
  log(`data owner: granted ${DEMO_ANALYST} ε=${o.targetEpsilon + 2}, δ=${DEMO_DELTA} on ${DEMO_DATASET} for this run (total grant ε=${grant.epsilon.toFixed(2)}, of which ε=${used.epsilon.toFixed(2)} spent earlier)`);

  const plainJob = await fineTune(researcher, fineTuneInput(DEMO_PRIVILEGED, 'unlimited', o), 'without DP', log);
  const dpJob = await fineTune(analyst, fineTuneInput(DEMO_ANALYST, o.targetEpsilon, o), `with DP (ε=${o.targetEpsilon})`, log);
  const [plain, dp] = [plainJob.result, dpJob.result];
  log(dp.message);
  const plainSamples = await samples(researcher, DEMO_PRIVILEGED, plain.modelId, 'unlimited');
  const dpSamples = await samples(analyst, DEMO_ANALYST, dp.modelId, o.targetEpsilon + 0.5);

  const sides: [DemoSide, DemoSide] = [
    { title: 'without DP', result: plain, samples: plainSamples, ownerAudit: await ownerAudit(plain.modelId), auditShare: plainJob.auditShare },
    { title: `with DP (target ε=${o.targetEpsilon})`, result: dp, samples: dpSamples, ownerAudit: await ownerAudit(dp.modelId), auditShare: dpJob.auditShare },
  ];
  return printComparison(sides, log);
}
