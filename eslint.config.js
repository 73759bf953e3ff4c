// Lint rules that protect Veil's hard invariants: no promise is dropped on the floor, workflow code
// stays deterministic (no Node built-ins, which could do I/O or read clocks), and each layer imports
// only downward: clients → workflows/workers → activities → contracts/infra → engine.
import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';

const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];

/** An import of any of these top-level folders, however many '../' lead there. */
const layer = (...folders) => `^(\\.\\./)+(${folders.join('|')})/`;

/** The import restrictions of one layer (patterns of relative paths; optionally Node built-ins). */
function restrictImports(message, { forbidden, typeOnly = [], noNode = false }) {
  const patterns = [{ regex: layer(...forbidden), message }];
  if (typeOnly.length) patterns.push({ regex: layer(...typeOnly), allowTypeImports: true, message: `${message} (types only)` });
  const paths = noNode ? nodeBuiltins.map((name) => ({ name, message: 'No Node built-ins here: this code runs in the workflow sandbox (do I/O in an activity).' })) : [];
  return { 'no-restricted-imports': 'off', '@typescript-eslint/no-restricted-imports': ['error', { paths, patterns }] };
}

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', '.veil/**', '**/.venv/**', 'bin/**', 'eslint.config.js'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      // node:test's test()/describe() return promises the runner itself awaits.
      '@typescript-eslint/no-floating-promises': ['error', { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['test', 'describe', 'it', 'suite'] }] }],
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['engine/**/*.ts'],
    rules: restrictImports('engine/ is the ML engine: it imports no other Veil layer', { forbidden: ['contracts', 'infra', 'activities', 'workflows', 'workers', 'clients', 'bin'] }),
  },
  {
    files: ['contracts/**/*.ts'],
    rules: restrictImports('contracts/ is shared by every layer: it imports only zod, Temporal\'s common types and other contracts', {
      forbidden: ['infra', 'activities', 'workflows', 'workers', 'clients', 'bin'],
      typeOnly: ['engine'],
      noNode: true,
    }),
  },
  {
    files: ['infra/**/*.ts'],
    rules: restrictImports('infra/ sits below activities, workflows and clients', { forbidden: ['engine', 'activities', 'workflows', 'workers', 'clients', 'bin'] }),
  },
  {
    files: ['activities/**/*.ts'],
    rules: restrictImports('activities/ must not import workflows, workers or clients (put shared shapes in contracts/)', { forbidden: ['workflows', 'workers', 'clients', 'bin'] }),
  },
  {
    files: ['workers/**/*.ts'],
    rules: restrictImports('workers/ host workflows and activities; they do not import clients', { forbidden: ['clients', 'bin'] }),
  },
  {
    files: ['workflows/**/*.ts'],
    rules: {
      ...restrictImports('workflows/ are deterministic orchestration: activities by type only (proxyActivities), never clients or workers', {
        forbidden: ['clients', 'workers', 'bin', 'engine', 'infra'],
        typeOnly: ['activities'],
        noNode: true,
      }),
      'no-restricted-globals': ['error', { name: 'setTimeout', message: 'Use sleep() from @temporalio/workflow.' }],
    },
  },
);
