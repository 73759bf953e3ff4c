// Confidential histories for real jobs: a privileged analyst's non-DP fine-tune on rows carrying a
// marker, and a sample whose text holds it, leave no marker, no sample text, no signature and no
// exact count readable in the raw history, through the gRPC API or the `temporal` CLI; the codec
// server opens the sample job for its signer and no other analyst.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { generatePatientNotes } from '../../clients/demo/patient-notes.ts';
import { addDataset } from '../../clients/sdk/datasets.ts';
import { NotYourJobError, RemoteCodec } from '../../clients/sdk/remote-codec.ts';
import type { FineTuneResult } from '../../contracts/fine-tune.ts';
import type { SampleResult } from '../../contracts/sample.ts';
import { startCodecServer } from '../../infra/codec/serve.ts';
import { config } from '../../infra/config.ts';
import { uniqueName } from '../helpers/names.ts';
import { newAnalyst, newOwner } from '../helpers/principals.ts';
import { signRequest } from '../../infra/access/index.ts';
import { connectTestEnvironment, withWorker } from '../helpers/temporal.ts';
import { rawText } from '../helpers/raw-text.ts';

let env: TestWorkflowEnvironment;
before(async () => {
  env = await connectTestEnvironment();
});
after(async () => {
  await env?.teardown();
});

test("a privileged non-DP job and its samples leave nothing private readable in the raw history", async () => {
  const marker = `Zq${randomBytes(5).toString('hex')}`;
  const dir = await mkdtemp(join(tmpdir(), 'veil-raw-'));
  const file = join(dir, 'notes.jsonl');
  await writeFile(file, generatePatientNotes({ rows: 50, secretCopies: 0, seed: 'raw' }).map((r, i) => (i % 7 === 3 ? { ...r, note: `${r.note} Contact ${marker}.` } : r)).map((r) => JSON.stringify(r)).join('\n') + '\n');
  const owner = await newOwner('raw-owner');
  const researcher = await newAnalyst('raw-researcher', { privileged: true });
  const other = await newAnalyst('raw-other');
  const dataset = uniqueName('raw');
  await withWorker(async ({ client, taskQueue }) => {
    await addDataset(client, taskQueue, dataset, file, { token: owner.token });
    const ftInput = signRequest(researcher.token, 'fineTune', {
      jobId: uniqueName('job'),
      analyst: researcher.id,
      dataset: { name: dataset },
      textColumn: 'note',
      model: { base: 'tiny', seed: 'raw', maxSeqLen: 16 },
      training: { targetEpsilon: 'unlimited' as const, batchSize: 8, epochs: 0.3, lr: 1e-3, checkpointEvery: 2 },
    });
    const ftId = uniqueName('ft');
    const trained: FineTuneResult = await client.workflow.execute('fineTune', { taskQueue, workflowId: ftId, args: [ftInput] });
    assert.equal(trained.status, 'completed', trained.message);
    assert.ok(trained.dataReport && trained.dataReport.epsilon === null, 'a non-DP job gets exact counts');
    const sampleInput = signRequest(researcher.token, 'sample', { analyst: researcher.id, modelId: trained.modelId, prompts: [`Contact ${marker}`], maxEpsilon: 'unlimited' as const, maxNewTokens: 4, seed: 's' });
    const sampleId = uniqueName('sample');
    const sampled: SampleResult = await client.workflow.execute('sample', { taskQueue, workflowId: sampleId, args: [sampleInput] });
    assert.ok(sampled.samples[0].text.includes(marker), 'the sample (a completion of the prompt) holds the marker');

    for (const workflowId of [ftId, sampleId]) {
      const history = await client.workflowService.getWorkflowExecutionHistory({ namespace: config().TEMPORAL_NAMESPACE, execution: { workflowId } });
      const raw = rawText(history.history?.events ?? []);
      assert.ok(raw.includes('binary/encrypted'), `${workflowId}: payloads are sealed`);
      for (const secret of [marker, sampled.samples[0].text, ftInput.auth.signature, sampleInput.auth.signature]) assert.equal(raw.includes(secret), false, `${workflowId} shows ${secret.slice(0, 20)}…`);
      // The server's own CLI, as an attacker with network access would run it.
      const temporal = join(config().VEIL_HOME, 'venv', 'bin', 'temporal');
      const shown = execFileSync(temporal, ['workflow', 'show', '--workflow-id', workflowId, '--address', config().TEMPORAL_ADDRESS, '--output', 'json'], { encoding: 'utf8', maxBuffer: 64 << 20 });
      assert.ok(shown.length > 1000);
      assert.equal(shown.includes(marker), false, `temporal workflow show ${workflowId} prints the marker`);
      assert.equal(shown.includes(ftInput.auth.signature), false);
    }
    const history = await client.workflowService.getWorkflowExecutionHistory({ namespace: config().TEMPORAL_NAMESPACE, execution: { workflowId: sampleId } });
    const completed = history.history!.events!.find((e) => e.workflowExecutionCompletedEventAttributes)!.workflowExecutionCompletedEventAttributes!.result!.payloads!;
    const codec = await startCodecServer({ port: 0 });
    try {
      const remote = (token: string) => new RemoteCodec({ url: codec.url, token, namespace: config().TEMPORAL_NAMESPACE });
      const [opened] = await remote(researcher.token).decode(completed);
      assert.ok(Buffer.from(opened.data!).toString().includes(marker), 'the signer reads the samples');
      await assert.rejects(remote(other.token).decode(completed), NotYourJobError);
    } finally {
      await codec.close();
    }
  }, { env });
});
