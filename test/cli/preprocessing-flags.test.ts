// The CLI can preprocess: --rename and --map COLUMN=FILE.js become the same steps as the SDK's
// rename() and map(trace(fn)); `veil access sign` completes a hand-written fineTune input (job id,
// traced digest) and refuses a broken one with every problem listed, before signing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fineTuneInputFromFlags } from '../../clients/cli/finetune.ts';
import { preprocessingFromFlags } from '../../clients/cli/preprocessing-flags.ts';
import { completeFineTuneInput } from '../../clients/sdk/complete-input.ts';
import { JobInputError } from '../../clients/sdk/jobs/index.ts';
import { sourceSha256, trace, verifyTraced } from '../../engine/sandbox/index.ts';
import { parseToken, requestSignatureMatches } from '../../infra/access/index.ts';
import { describeRun, runVeil } from './harness.ts';

const PREPROCESS = `(data) => data.split('text":')[1].split(', "patient_id')[0].trim()`;
const TOKEN = `veil1.cli-signer.${'a'.repeat(43)}`;

async function tempFile(name: string, text: string): Promise<string> {
  const file = join(await mkdtemp(join(tmpdir(), 'veil-pre-')), name);
  await writeFile(file, text);
  return file;
}

test('--rename and --map become rename and traced map steps, renames first', async () => {
  const file = await tempFile('preprocess.js', `\n${PREPROCESS};\n`);
  const steps = preprocessingFromFlags(['context=text'], [`text=${file}`]);
  assert.deepEqual(steps[0], { kind: 'rename', from: 'context', to: 'text' });
  assert.equal(steps[1].kind, 'map');
  if (steps[1].kind !== 'map') return;
  assert.equal(steps[1].column, 'text');
  assert.equal(steps[1].fn.name, 'preprocess');
  assert.equal(steps[1].fn.source, PREPROCESS, 'blank lines and the trailing ; are not part of the function');
  assert.equal(steps[1].fn.sha256, sourceSha256(PREPROCESS));
  // A file holding the source the SDK's trace() recorded gets the same digest (under tsx that source
  // is the transpiler's text of the function, so the text, not the idea, is what is hashed).
  const sdk = trace((data: string) => data.split('text":')[1].split(', "patient_id')[0].trim());
  const [fromSdk] = preprocessingFromFlags([], [`text=${await tempFile('sdk.js', sdk.source)}`]);
  assert.equal(fromSdk.kind === 'map' && fromSdk.fn.sha256, sdk.sha256);
  verifyTraced(steps[1].fn);

  const input = fineTuneInputFromFlags({ analyst: 'a', dataset: 'phee', textColumn: 'text', model: 'random:tiny', targetEpsilon: '8', batchSize: '8', epochs: '1', rename: ['context=text'], map: [`text=${file}`] });
  assert.deepEqual(input.preprocessing, steps);
  assert.equal(fineTuneInputFromFlags({ analyst: 'a', dataset: 'phee', textColumn: 'text', model: 'tiny', targetEpsilon: '8', batchSize: '8', epochs: '1' }).preprocessing, undefined);
});

test('bad --rename / --map values are usage errors that name the flag', async () => {
  assert.throws(() => preprocessingFromFlags(['context'], []), /--rename: "context": expected FROM=TO/);
  assert.throws(() => preprocessingFromFlags([], ['text=/no/such/file.js']), /--map: cannot read \/no\/such\/file.js: ENOENT/);
  const escaping = await tempFile('net.js', '(s) => fetch(s)');
  assert.throws(() => preprocessingFromFlags([], [`text=${escaping}`]), /--map .*net\.js: cannot trace/);
});

const handWritten = {
  analyst: 'cli-signer',
  dataset: { name: 'phee' },
  preprocessing: [{ kind: 'rename', from: 'context', to: 'text' }, { kind: 'map', column: 'text', fn: PREPROCESS }],
  textColumn: 'text',
  split: { kind: 'index', testFrom: 2608 },
  model: { base: 'random:tiny' },
  training: { targetEpsilon: 22, batchSize: 64, epochs: 1 },
};

test('completeFineTuneInput adds the job id and traces fn from its source; a wrong digest or bad field is listed', () => {
  const complete = completeFineTuneInput(handWritten);
  assert.match(String(complete.jobId), /^[0-9a-f]{8}$/);
  const map = complete.preprocessing![1] as { fn: { sha256: string; source: string; name: string } };
  assert.equal(map.fn.sha256, sourceSha256(PREPROCESS));
  assert.equal(map.fn.name, 'text');
  const named = completeFineTuneInput({ ...handWritten, preprocessing: [{ kind: 'map', column: 'context', fn: { source: PREPROCESS, name: 'preprocess' } }] });
  assert.equal((named.preprocessing![0] as { fn: { name: string } }).fn.name, 'preprocess');

  assert.throws(
    () => completeFineTuneInput({ ...handWritten, preprocessing: [{ kind: 'map', column: 'text', fn: { source: PREPROCESS, sha256: '0'.repeat(64) } }], training: { targetEpsilon: 22, batchSize: 0, epochs: 1 } }),
    (err: unknown) => {
      assert.ok(err instanceof JobInputError);
      const paths = err.issues.map((i) => i.path);
      assert.ok(paths.includes('preprocessing.0.fn'), `digest mismatch listed: ${paths.join(', ')}`);
      assert.ok(paths.includes('training.batchSize'), `schema problem listed too: ${paths.join(', ')}`);
      return true;
    },
  );
});

test('veil access sign completes and signs a fineTune input, and refuses an invalid one with exit code 2', async () => {
  const file = await tempFile('input.json', JSON.stringify(handWritten));
  const run = await runVeil(['access', 'sign', '--workflow', 'fineTune', file], { env: { VEIL_TOKEN: TOKEN } });
  assert.equal(run.code, 0, describeRun(run));
  const signed = JSON.parse(run.stdout) as Record<string, unknown> & { preprocessing: { fn?: { sha256: string } }[] };
  assert.match(String(signed.jobId), /^[0-9a-f]{8}$/);
  assert.equal(signed.preprocessing[1].fn!.sha256, sourceSha256(PREPROCESS));
  assert.ok(signed.auth, 'signed');
  assert.equal(requestSignatureMatches(parseToken(TOKEN).secret, 'fineTune', signed), true);

  const bad = await tempFile('bad.json', JSON.stringify({ ...handWritten, model: { base: 'gpt3' } }));
  const refused = await runVeil(['access', 'sign', '--workflow', 'fineTune', bad], { env: { VEIL_TOKEN: TOKEN } });
  assert.equal(refused.code, 2, describeRun(refused));
  assert.match(refused.stderr, /model\.base: a base model is/);
  assert.equal(refused.stdout, '', 'nothing signed');
});

test("the UI worked example (examples/ui) completes to the same function as the CLI's --map file", async () => {
  const raw = JSON.parse(await readFile(new URL('../../examples/ui/phee-finetune.json', import.meta.url), 'utf8')) as Record<string, unknown>;
  const complete = completeFineTuneInput(raw);
  const fn = (complete.preprocessing![1] as { fn: { sha256: string; name: string } }).fn;
  assert.equal(fn.name, 'preprocess');
  const [, fromFile] = preprocessingFromFlags(['context=text'], [`text=${new URL('../../examples/ui/preprocess.js', import.meta.url).pathname}`]);
  assert.equal(fromFile.kind === 'map' && fromFile.fn.sha256, fn.sha256);
  assert.equal(fn.sha256, sourceSha256(PREPROCESS));
});
