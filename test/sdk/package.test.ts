// The SDK is a package: a script outside the clone imports { VeilClient, GPT2, trace } from 'veil'
// (ESM, top-level await) and runs with `node --import tsx`, its types check with tsc, and
// `npm pack` ships the entry point and the examples.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { projectRoot } from '../../infra/config.ts';

const run = promisify(execFile);

/** A folder outside the clone where `veil` (and tsx, its dependency) are installed, as npm would. */
async function outsideProject(script: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'veil-user-'));
  await mkdir(join(dir, 'node_modules', '@types'), { recursive: true });
  await symlink(projectRoot, join(dir, 'node_modules', 'veil'));
  await symlink(join(projectRoot, 'node_modules', 'tsx'), join(dir, 'node_modules', 'tsx'));
  await symlink(join(projectRoot, 'node_modules', '@types', 'node'), join(dir, 'node_modules', '@types', 'node'));
  await writeFile(join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
  await writeFile(join(dir, 'script.ts'), script);
  return dir;
}

const SCRIPT = `import { VeilClient, GPT2, trace, type FineTuneResult } from 'veil';
const preprocess = trace((data: string) => data.split('text":')[1].split(', "patient_id')[0].trim(), { name: 'preprocess' });
await Promise.resolve(); // top-level await: the script is ESM
const model = GPT2.create('random:tiny', { maxSeqLen: 32 });
const result: FineTuneResult | null = null;
// @ts-expect-error GPT2.create takes a string: typed, not any
GPT2.create(42);
console.log(JSON.stringify({ connect: typeof VeilClient.connect, base: model.base, digest: preprocess.sha256.length, result }));
`;

test("a script outside the clone runs `import { VeilClient, GPT2, trace } from 'veil'` with node --import tsx", async () => {
  const dir = await outsideProject(SCRIPT);
  const { stdout } = await run(process.execPath, ['--import', 'tsx', 'script.ts'], { cwd: dir });
  assert.deepEqual(JSON.parse(stdout.trim()), { connect: 'function', base: 'random:tiny', digest: 64, result: null });
});

test("the package's types check in the user's project (tsc, NodeNext)", async () => {
  const dir = await outsideProject(SCRIPT);
  const tsconfig = { compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, allowImportingTsExtensions: true, skipLibCheck: true, types: ['node'] }, files: ['script.ts'] };
  await writeFile(join(dir, 'tsconfig.json'), JSON.stringify(tsconfig));
  // An unused @ts-expect-error would fail too: the check sees real types, not any.
  const tsc = join(projectRoot, 'node_modules', 'typescript', 'bin', 'tsc');
  const out = await run(process.execPath, [tsc, '-p', '.'], { cwd: dir }).catch((err: { stdout: string }) => ({ stdout: `FAILED\n${err.stdout}` }));
  assert.equal(out.stdout.trim(), '');
});

test('npm pack ships the entry point, the examples and the PHEE rows with their licence', async () => {
  const { stdout } = await run('npm', ['pack', '--dry-run', '--json'], { cwd: projectRoot });
  const [pack] = JSON.parse(stdout) as { name: string; files: { path: string }[] }[];
  assert.equal(pack.name, 'veil');
  const files = new Set(pack.files.map((f) => f.path));
  for (const path of ['package.json', 'clients/sdk/index.ts', 'examples/notebook.ts', 'examples/data/phee/train.jsonl', 'examples/data/phee/LICENSE']) assert.ok(files.has(path), path);
  assert.ok(![...files].some((p) => p.startsWith('node_modules/') || p.startsWith('.veil/')), 'no dependencies or local state');
});
