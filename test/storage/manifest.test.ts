// Manifests are the commit point of a prefix and the reference every read is checked against:
// corruption, truncation and extension of an object are all caught with a clear error.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { IntegrityError, ManifestError, ObjectExistsError, type ArtifactStore } from '../../infra/storage/index.ts';
import { scratchPrefix } from '../helpers/names.ts';
import { testStore } from '../helpers/storage.ts';

const root = scratchPrefix('manifest');
const store: ArtifactStore = await testStore();

after(async () => {
  await store.deletePrefix(root);
});

/** Replaces an object behind the store's back, as a faulty disk or a tampering hand would. */
async function overwriteRaw(key: string, body: string): Promise<void> {
  await store.client.putObject(store.bucket, key, Buffer.from(body));
}

async function committedPrefix(name: string) {
  const prefix = `${root}/${name}`;
  const a = await store.putImmutable(`${prefix}/a.txt`, 'alpha contents');
  const b = await store.putImmutable(`${prefix}/sub/b.json`, '{"b":2}');
  const manifest = await store.writeManifest(prefix, [a, b], { kind: 'test', step: 3 });
  return { prefix, a, b, manifest };
}

describe('manifests', () => {
  test('a committed prefix reads back with its metadata and verified entries', async () => {
    const { prefix, a, b } = await committedPrefix('ok');
    const m = await store.readManifest(prefix, z.object({ kind: z.literal('test'), step: z.number() }));
    assert.equal(m.prefix, prefix);
    assert.deepEqual(m.meta, { kind: 'test', step: 3 });
    assert.deepEqual(m.entries, { 'a.txt': { size: a.size, sha256: a.sha256 }, 'sub/b.json': { size: b.size, sha256: b.sha256 } });
    let text = '';
    for await (const chunk of await store.getEntry(m, 'a.txt')) text += chunk;
    assert.equal(text, 'alpha contents');
    await store.verifyManifest(m);
    assert.deepEqual(await store.listPrefixes(root), ['ok']);
  });

  test('a prefix is committed once: a second manifest fails with "already exists"', async () => {
    const { prefix, a } = await committedPrefix('twice');
    await assert.rejects(store.writeManifest(prefix, [a], { kind: 'other' }), (err: unknown) => err instanceof ObjectExistsError && /already exists/.test(err.message));
    assert.equal((await store.readManifest(prefix)).meta.kind, 'test');
  });

  for (const [what, replacement] of [
    ['corrupted (same size, other bytes)', 'alpha c0ntents'],
    ['truncated', 'alpha'],
    ['extended', 'alpha contents, and more'],
  ] as const) {
    test(`an object ${what} after commit is detected on read`, async () => {
      const { a, manifest } = await committedPrefix(`bad-${what.split(' ')[0]}`);
      await overwriteRaw(a.key, replacement);
      await assert.rejects(store.getVerifiedBuffer(a.key, manifest.entries['a.txt']), (err: unknown) => {
        assert.ok(err instanceof IntegrityError, String(err));
        assert.match(err.message, /integrity check failed/);
        assert.match(err.message, /corrupted or truncated/);
        assert.ok(err.message.includes(a.key));
        return true;
      });
      await assert.rejects(store.verifyManifest(manifest), IntegrityError);
    });
  }

  test('a manifest only lists objects of its own prefix, and only existing ones', async () => {
    const prefix = `${root}/strict`;
    const outside = await store.putImmutable(`${root}/outside.txt`, 'x');
    await assert.rejects(store.writeManifest(prefix, [outside], {}), ManifestError);
    const gone = await store.putImmutable(`${prefix}/gone.txt`, 'y');
    await store.delete(gone.key);
    await assert.rejects(store.writeManifest(prefix, [gone], {}), /does not exist/);
    assert.equal(await store.exists(`${prefix}/manifest.json`), false);
  });

  test('an uncommitted prefix has no manifest; a damaged manifest is rejected clearly', async () => {
    const prefix = `${root}/pending`;
    await store.putImmutable(`${prefix}/data.bin`, 'z');
    assert.equal(await store.tryReadManifest(prefix), undefined);
    await overwriteRaw(`${prefix}/manifest.json`, '{"format":"veil-manifest/1","prefix":');
    await assert.rejects(store.readManifest(prefix), (err: unknown) => err instanceof ManifestError && /not valid JSON/.test(err.message));
  });
});
