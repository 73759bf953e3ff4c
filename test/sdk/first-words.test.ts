// Train the way generation starts: rows are <|endoftext|> text <|endoftext|> and generation from an
// empty prompt starts at <|endoftext|>, so a model fit on a small template corpus begins its
// unconditional samples with the corpus's first words (under the old text<|endoftext|> layout the
// token after <|endoftext|> was never trained, and samples came out empty or garbled).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { GPT2, VeilClient } from '../../clients/sdk/index.ts';
import { uniqueName } from '../helpers/names.ts';
import { newAnalyst, newOwner } from '../helpers/principals.ts';
import { connectTestEnvironment, withWorker } from '../helpers/temporal.ts';

let env: TestWorkflowEnvironment;
let file: string;
const DAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday'];
const COMPLAINTS = ['a cough', 'a fever', 'back pain', 'a headache', 'a rash', 'fatigue', 'nausea', 'dizziness'];

before(async () => {
  env = await connectTestEnvironment();
  file = join(await mkdtemp(join(tmpdir(), 'veil-first-')), 'visits.jsonl');
  const rows = Array.from({ length: 80 }, (_, i) => ({ text: `The patient was seen on ${DAYS[i % 5]} for ${COMPLAINTS[i % 8]}.` }));
  await writeFile(file, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
});

after(async () => {
  await env?.teardown();
});

test("unconditional samples of a model fit on a template corpus start with the corpus's first words", async () => {
  await withWorker(async ({ client: temporal, taskQueue }) => {
    const owner = await VeilClient.connect({ temporal, taskQueue, token: (await newOwner('first-owner')).token });
    const researcher = await VeilClient.connect({ temporal, taskQueue, token: (await newAnalyst('first-researcher', { privileged: true })).token });
    const name = uniqueName('visits');
    await owner.addDataset(name, file);
    const model = GPT2.create('random:tiny', { maxSeqLen: 16, seed: 'first-words' }).fit(researcher.dataset(name).split({ testFraction: 0.1 }), { batchSize: 16, epochs: 40, lr: 1e-2 });
    const log = console.log;
    console.log = () => {};
    let fitted;
    try {
      fitted = await researcher.eval(model, { targetEpsilon: 'unlimited', onProgress: false });
    } finally {
      console.log = log;
    }
    const { samples } = await fitted.sample({ unconditional: 8, temperature: 0.3, maxNewTokens: 8, seed: 'first-words', maxEpsilon: 'unlimited' });
    const texts = samples.map((s) => s.text);
    assert.equal(texts.length, 8);
    const starting = texts.filter((t) => t.startsWith('The patient'));
    // Each job draws its own secret run key, so the Poisson batches, and the fit, differ from run
    // to run: a fit can leave ' patient' close behind 'The' as the first token, and at temperature
    // 0.3 two samples of eight have started ' patient patient…' (one CI run in about a dozen). The
    // layout under test separates far more sharply: under the old one samples came out empty or garbled.
    assert.ok(starting.length >= 6, `samples start as the rows did: ${JSON.stringify(texts)}`);
  }, { env });
});
