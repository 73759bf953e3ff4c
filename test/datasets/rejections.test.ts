// Bad files are rejected with a clear message that gives line numbers but never a row's content,
// and leave nothing behind: no version under datasets/<name>/ and no staged raw upload.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { DatasetIngestError, type VeilClient } from '../../clients/sdk/client.ts';
import type { IngestDatasetInput } from '../../contracts/datasets.ts';
import { uploadKey } from '../../infra/storage/index.ts';
import { testStore } from '../helpers/storage.ts';
import { uniqueName } from '../helpers/names.ts';
import { connectTestEnvironment, withWorker, type WorkerContext } from '../helpers/temporal.ts';
import { newAnalyst, newOwner, signedBy } from '../helpers/principals.ts';
import { cleanupDatasets, clientFor, datasetsOwner, datasetName, datasetKeys, historyText, localFile, workflowInput, datasetsStore } from './harness.ts';

let env: TestWorkflowEnvironment;
before(async () => {
  env = await connectTestEnvironment();
});
after(async () => {
  await cleanupDatasets(await testStore());
  await env.teardown();
});

/** A string that must never leave the file: it stands for a patient's private data. */
function plantSecret(): string {
  return `SECRET-${randomBytes(6).toString('hex')}`;
}

interface Rejection {
  file: string;
  /** Expected fragments of the message (line numbers included where the fault has one). */
  message: RegExp[];
  secret?: string;
}

/** Adds the file, expects a rejection, and checks message, privacy and cleanup. */
async function expectRejected(ctx: WorkerContext, veil: VeilClient, r: Rejection): Promise<void> {
  const name = datasetName('rejected');
  let workflowId: string | undefined;
  const err = await veil.addDataset(name, r.file, { onStarted: (id) => (workflowId = id) }).then(
    () => assert.fail('the file was accepted'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof DatasetIngestError, String(err));
  assert.equal(err.exitCode, 3, err.message);
  assert.equal(err.failureType, 'DatasetValidationError');
  for (const m of r.message) assert.match(err.message, m);
  assert.ok(workflowId);
  if (r.secret) {
    assert.ok(!err.message.includes(r.secret), `the message leaks the row: ${err.message}`);
    assert.ok(!(await historyText(ctx, workflowId)).includes(r.secret), 'the workflow history leaks the row');
  }
  assert.deepEqual(await datasetKeys((await datasetsStore()), name), [], 'nothing is left under datasets/<name>/');
  const input = await workflowInput<IngestDatasetInput>(ctx, workflowId);
  assert.equal(await (await datasetsStore()).exists(input.upload.key), false, 'the staged raw upload is deleted');
}

describe('rejected files', () => {
  const cases: [string, () => Rejection][] = [
    ['an empty file', () => ({ file: localFile('empty.csv', ''), message: [/the file is empty/, /header line and at least one row/] })],
    ['a JSON Lines file of blank lines', () => ({ file: localFile('blank.jsonl', '\n  \n\n'), message: [/the file is empty/, /JSON object/] })],
    ['a CSV file with a header and no rows', () => ({ file: localFile('header.csv', 'id,note\n'), message: [/header but no rows/] })],
    [
      'a CSV line with a stray quote',
      () => {
        const secret = plantSecret();
        return { file: localFile('quote.csv', `id,note\n1,fine\n2,also fine\n3,bad "${secret}" quote\n4,ok\n`), message: [/line 4/, /not valid CSV/, /quote/], secret };
      },
    ],
    [
      'an unclosed CSV quote',
      () => {
        const secret = plantSecret();
        return { file: localFile('unclosed.csv', `id,note\n1,fine\n2,"${secret}\n3,more\n4,lines\n`), message: [/record starting at line 3 is not valid CSV/, /never closed/], secret };
      },
    ],
    [
      'a malformed JSON line',
      () => {
        const secret = plantSecret();
        return { file: localFile('bad.jsonl', `{"id":1,"note":"a"}\n{"id":2,"note":"b"}\n{"id":3,"note":"${secret}"\n{"id":4,"note":"d"}\n`), message: [/line 3 is not valid JSON/], secret };
      },
    ],
    [
      'a JSON line that is not an object',
      () => {
        const secret = plantSecret();
        return { file: localFile('array.jsonl', `{"id":1,"note":"a"}\n[2,"${secret}"]\n`), message: [/line 2 is not a JSON object/], secret };
      },
    ],
    [
      'a CSV row with more fields than the header',
      () => {
        const secret = plantSecret();
        return {
          file: localFile('wide.csv', `id,note,score\n1,a,2\n2,b,3\n3,c,4\n4,d,5,${secret}\n`),
          message: [/line 5 has 4 fields but the header \(line 1\) has 3 columns/],
          secret,
        };
      },
    ],
    [
      'a JSON line with other keys than the first',
      () => {
        const secret = plantSecret();
        return {
          file: localFile('keys.jsonl', `{"id":1,"note":"a"}\n{"id":2,"note":"b"}\n{"id":3,"${secret}":"c"}\n`),
          message: [/line 3 has other columns than line 1/, /missing column "note"/, /1 unexpected key/],
          secret,
        };
      },
    ],
    [
      'a JSON column that changes type',
      () => {
        const secret = plantSecret();
        return { file: localFile('types.jsonl', `{"id":1,"note":"a"}\n{"id":2,"note":"b"}\n{"id":3,"note":"c"}\n{"id":"${secret}","note":"d"}\n`), message: [/line 4/, /column "id" holds a string where earlier rows hold an integer/], secret };
      },
    ],
    [
      'invalid UTF-8',
      () => {
        const secret = plantSecret();
        const bytes = Buffer.concat([Buffer.from(`id,note\n1,caf\u00e9\n2,${secret} `), Buffer.from([0xc3, 0x28]), Buffer.from(' end\n3,x\n')]);
        return { file: localFile('latin.csv', bytes), message: [/not valid UTF-8/, /line 3/], secret };
      },
    ],
    ['a CSV header naming two columns alike', () => ({ file: localFile('dup.csv', 'id,note,note\n1,a,b\n'), message: [/columns 2 and 3 the same name/] })],
  ];

  for (const [what, make] of cases) {
    test(what, async () => {
      await withWorker(
        async (ctx) => {
          const veil = await clientFor(ctx);
          await expectRejected(ctx, veil, make());
        },
        { env, gpu: false },
      );
    });
  }

  test('a bad dataset name is refused before anything is uploaded', async () => {
    await withWorker(
      async (ctx) => {
        const veil = await clientFor(ctx);
        const uploadsBefore = (await (await datasetsStore()).listObjects('uploads')).length;
        const file = localFile('ok.csv', 'id\n1\n');
        for (const bad of ['Upper', '-dash', 'a/b', 'x'.repeat(64), '']) {
          await assert.rejects(veil.addDataset(bad, file), (e: unknown) => e instanceof DatasetIngestError && e.exitCode === 2 && /invalid dataset name/.test(e.message));
        }
        await assert.rejects(veil.addDataset(datasetName('fmt'), localFile('data.txt', 'id\n1\n')), /cannot tell the format/);
        assert.ok((await (await datasetsStore()).listObjects('uploads')).length <= uploadsBefore);
      },
      { env, gpu: false },
    );
  });

  test('a staged upload damaged in transit is refused at once (no retries) and deleted', async () => {
    await withWorker(
      async (ctx) => {
        const upload = await (await datasetsStore()).putImmutable(uploadKey(randomUUID()), 'id\n1\n');
        const input = signedBy(await datasetsOwner(), 'ingestDataset', { name: datasetName('damaged'), format: 'csv', upload: { ...upload, sha256: '1'.repeat(64) } });
        const err = await ctx.client.workflow.execute('ingestDataset', { taskQueue: ctx.taskQueue, workflowId: uniqueName('damaged'), args: [input] }).then(
          () => assert.fail('accepted'),
          (e: unknown) => e,
        );
        assert.ok(err instanceof WorkflowFailedError);
        const cause = err.cause?.cause;
        assert.ok(cause instanceof ApplicationFailure, String(cause));
        assert.equal(cause.type, 'UploadIntegrityError');
        assert.match(cause.message, /damaged between the client and the server/);
        assert.equal(await (await datasetsStore()).exists(upload.key), false);
        assert.deepEqual(await datasetKeys((await datasetsStore()), input.name), []);
      },
      { env, gpu: false },
    );
  });

  test('only a data owner adds datasets, and only to names that are theirs; a refused upload is deleted', async () => {
    await withWorker(
      async (ctx) => {
        const veil = await clientFor(ctx);
        const name = datasetName('owned');
        await veil.addDataset(name, localFile('v1.csv', 'id,note\n1,first\n'));
        const stage = async () => (await datasetsStore()).putImmutable(uploadKey(randomUUID()), 'id,note\n2,second\n');
        const refusal = async (input: object): Promise<ApplicationFailure> => {
          const err = await ctx.client.workflow.execute('ingestDataset', { taskQueue: ctx.taskQueue, workflowId: uniqueName('refused'), args: [input] }).then(
            () => assert.fail('accepted'),
            (e: unknown) => e,
          );
          assert.ok(err instanceof WorkflowFailedError);
          const cause = err.cause?.cause;
          assert.ok(cause instanceof ApplicationFailure, String(cause));
          return cause;
        };
        // Unsigned: refused before the file is read, and the staged file is deleted all the same.
        const unsignedUpload = await stage();
        const unsigned = await refusal({ name, format: 'csv', upload: unsignedUpload });
        assert.equal(unsigned.type, 'Unauthenticated');
        assert.match(unsigned.message, /not signed/);
        assert.equal(await (await datasetsStore()).exists(unsignedUpload.key), false);
        // Another owner may not add a version to this owner's dataset; an analyst may add none.
        const other = await newOwner('other-owner');
        const takeover = await refusal(signedBy(other, 'ingestDataset', { name, format: 'csv', upload: await stage() }));
        assert.equal(takeover.type, 'Forbidden');
        assert.match(takeover.message, /belongs to another data owner/);
        const analyst = await newAnalyst('ingesting-analyst');
        const byAnalyst = await refusal(signedBy(analyst, 'ingestDataset', { name: datasetName('by-analyst'), format: 'csv', upload: await stage() }));
        assert.equal(byAnalyst.type, 'Forbidden');
        // A signed request changed after signing (another dataset name) does not verify.
        const owner = await datasetsOwner();
        const signed = signedBy(owner, 'ingestDataset', { name, format: 'csv', upload: await stage() });
        const changed = await refusal({ ...signed, name: datasetName('elsewhere') });
        assert.equal(changed.type, 'Unauthenticated');
        assert.deepEqual((await veil.listDatasets()).find((d) => d.name === name)?.versions, [1], 'no refused request added a version');
      },
      { env, gpu: false },
    );
  });

  test('the workflow refuses an invalid input itself, listing every problem', async () => {
    await withWorker(
      async (ctx) => {
        const bad = { name: 'Not A Name', format: 'xml', upload: { key: 'uploads/short', size: -1, sha256: 'abc' } };
        const err = await ctx.client.workflow
          .execute('ingestDataset', { taskQueue: ctx.taskQueue, workflowId: uniqueName('bad-input'), args: [bad] })
          .then(
            () => assert.fail('accepted'),
            (e: unknown) => e,
          );
        assert.ok(err instanceof WorkflowFailedError);
        const cause = err.cause;
        assert.ok(cause instanceof ApplicationFailure);
        assert.equal(cause.type, 'InvalidInput');
        assert.equal(cause.nonRetryable, true);
        for (const field of ['name', 'format', 'upload.key', 'upload.size', 'upload.sha256']) assert.ok(cause.message.includes(`${field}:`), `${field} in ${cause.message}`);
      },
      { env, gpu: false },
    );
  });
});
