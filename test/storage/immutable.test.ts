// Artifacts are create-only: a second write to a key fails clearly and leaves the first intact,
// for single-PUT and multipart uploads alike, and when two writers race.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ObjectExistsError, sha256Hex, type ArtifactStore } from '../../infra/storage/index.ts';
import { scratchPrefix } from '../helpers/names.ts';
import { testStore } from '../helpers/storage.ts';
import { generatedBytes, generatedSha256 } from '../helpers/data.ts';

const MiB = 1024 * 1024;
const prefix = scratchPrefix('immutable');
// 5 MiB parts: an 11 MiB body takes the multipart path without a big test object.
const store: ArtifactStore = await testStore({ partSize: 5 * MiB });

after(async () => {
  await store.deletePrefix(prefix);
});

async function incompleteUploads(keyPrefix: string): Promise<number> {
  let n = 0;
  for await (const _u of store.client.listIncompleteUploads(store.bucket, keyPrefix, true)) n++;
  return n;
}

describe('immutable artifacts', () => {
  test('a small object is written once; a second write fails with "already exists" and changes nothing', async () => {
    const key = `${prefix}/small.txt`;
    const first = await store.putImmutable(key, 'first version');
    assert.deepEqual(first, { key, size: 13, sha256: sha256Hex('first version') });
    await assert.rejects(store.putImmutable(key, 'second version'), (err: unknown) => {
      assert.ok(err instanceof ObjectExistsError);
      assert.match(err.message, /already exists/);
      assert.match(err.message, new RegExp(key));
      return true;
    });
    assert.equal((await store.getVerifiedBuffer(key, first)).toString(), 'first version');
  });

  test('a multipart object is written once; a second write fails early and leaves no parts behind', async () => {
    const key = `${prefix}/large.bin`;
    const size = 11 * MiB;
    const first = await store.putImmutable(key, generatedBytes(size, 'a'));
    assert.equal(first.size, size);
    assert.equal(first.sha256, await generatedSha256(size, 'a'));
    await assert.rejects(store.putImmutable(key, generatedBytes(size, 'b')), ObjectExistsError);
    const back = await store.getVerifiedBuffer(key, first);
    assert.equal(sha256Hex(back), first.sha256);
    assert.equal(await incompleteUploads(key), 0);
  });

  test('two writers racing on one key: exactly one wins, the object is wholly the winner\'s', async () => {
    const key = `${prefix}/raced.bin`;
    const size = 11 * MiB;
    const results = await Promise.allSettled([store.putImmutable(key, generatedBytes(size, 'x')), store.putImmutable(key, generatedBytes(size, 'y'))]);
    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.filter((r) => r.status === 'rejected');
    assert.equal(won.length, 1, 'exactly one writer succeeds');
    assert.equal(lost.length, 1);
    assert.ok((lost[0] as PromiseRejectedResult).reason instanceof ObjectExistsError);
    const winner = (won[0] as PromiseFulfilledResult<{ key: string; size: number; sha256: string }>).value;
    assert.ok([await generatedSha256(size, 'x'), await generatedSha256(size, 'y')].includes(winner.sha256));
    assert.equal(sha256Hex(await store.getVerifiedBuffer(key, winner)), winner.sha256);
    assert.equal(await incompleteUploads(key), 0);
  });

  test('an empty body is a valid immutable object', async () => {
    const key = `${prefix}/empty`;
    const info = await store.putImmutable(key, Buffer.alloc(0));
    assert.equal(info.size, 0);
    assert.equal((await store.getVerifiedBuffer(key, info)).length, 0);
    await assert.rejects(store.putImmutable(key, ''), ObjectExistsError);
  });

  test('abortIncompleteUploads removes every unfinished upload of a key', async () => {
    const key = `${prefix}/orphan.bin`;
    // What writers that died mid-upload leave: initiated multipart uploads, one with a part.
    const first = await store.client.initiateNewMultipartUpload(store.bucket, key, {});
    await store.client.uploadPart({ bucketName: store.bucket, objectName: key, uploadID: first, partNumber: 1, headers: {} }, Buffer.alloc(5 * MiB, 7));
    await store.client.initiateNewMultipartUpload(store.bucket, key, {});
    assert.equal(await incompleteUploads(key), 2);
    assert.equal(await store.abortIncompleteUploads(key), 2);
    assert.equal(await incompleteUploads(key), 0);
    assert.equal(await store.exists(key), false);
  });

  test('a body stream that fails aborts the upload: no object and no parts are left', async () => {
    const key = `${prefix}/failed.bin`;
    async function* failing() {
      yield* generatedBytes(7 * MiB, 'f');
      throw new Error('source broke');
    }
    await assert.rejects(store.putImmutable(key, failing()), /source broke/);
    assert.equal(await store.exists(key), false);
    assert.equal(await incompleteUploads(key), 0);
  });
});
