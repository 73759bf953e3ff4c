// The product's notebook, step for step, in TypeScript on Veil: PHEE sentences as a `phee` dataset
// whose `context` is a JSON string; a synthetic preview; the notebook's exact `preprocess`, traced
// and previewed; a split at row 2,608; a fit without DP and one at target ε=22; samples of both.
//
//   node bin/veil.js infra up            # once: Temporal and MinIO on 127.0.0.1
//   npm run example:notebook             # = node --import tsx examples/notebook.ts [--help]
//
// Run as a script it also plays the operator and the data owner (examples/setup.ts), as
// `veil demo` does. `notebook()` below is the analyst's part alone: what a notebook user writes.
// The model is a small random GPT-2 (`random:tiny`) with few steps so that this runs in minutes on
// two CPU cores; `--base gpt2-xl --epochs 1 --dp-batch-size 1 --dp-epochs 3` asks for the
// notebook's own settings (gpt2-xl must then be in the workers' Hugging Face cache).
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { GPT2, trace, type DatasetRef, type FineTuneResult, type SampleResult, type VeilClient } from 'veil';
import { SECRET_PROMPT } from './phee.ts';

export interface NotebookOptions {
  /** The dataset's name (the notebook's is `phee`). */
  dataset: string;
  /** Where the split puts the first test row (the notebook: 2,608 of 2,898). */
  testFrom: number;
  base: string;
  maxSeqLen: number;
  plain: { batchSize: number; epochs: number; lr?: number };
  dp: { batchSize: number; epochs: number; lr?: number; targetEpsilon: number; delta: number };
  /** Tokens per sample (the notebook: 100). */
  maxNewTokens: number;
  log: (line: string) => void;
}

export const NOTEBOOK_DEFAULTS: Omit<NotebookOptions, 'log'> = {
  dataset: 'phee',
  testFrom: 2608,
  base: 'random:tiny',
  maxSeqLen: 64,
  plain: { batchSize: 12, epochs: 1, lr: 5e-3 },
  dp: { batchSize: 128, epochs: 1, lr: 5e-3, targetEpsilon: 22, delta: 1e-5 },
  maxNewTokens: 100,
};

/** The notebook's preprocessing, word for word (Python's strip() is trim()). */
export const preprocess = trace((data: string) => data.split('text":')[1].split(', "patient_id')[0].trim(), { name: 'preprocess' });

export interface NotebookRun {
  datasets: { name: string; rows: number }[];
  preview: Awaited<ReturnType<DatasetRef['preview']>>;
  preprocessed: Awaited<ReturnType<DatasetRef['preview']>>;
  plain: FineTuneResult;
  dp: FineTuneResult;
  samples: { plain: SampleResult; dp: SampleResult };
}

/** Steps 2–3 on a client's view of the dataset: rename, map, split. */
const prepared = (client: VeilClient, o: Omit<NotebookOptions, 'log'>): DatasetRef =>
  client.dataset(o.dataset).rename({ context: 'text' }).map('text', preprocess).split({ testFrom: o.testFrom });

function showRows(log: (line: string) => void, rows: Record<string, unknown>[], n = 3): void {
  for (const row of rows.slice(0, n)) log(`  ${JSON.stringify(row).slice(0, 160)}`);
}

/** Step 5 and 7: 10 unconditional samples at temperature 1, 5 completions of the secret's prefix at 0.1. */
async function samplesOf(model: Awaited<ReturnType<VeilClient['eval']>>, o: NotebookOptions, label: string): Promise<SampleResult> {
  const unconditional = await model.sample({ unconditional: 10, temperature: 1, maxNewTokens: o.maxNewTokens, seed: `${label}/unconditional` });
  const completions = await model.sample({ prompts: Array<string>(5).fill(SECRET_PROMPT), temperature: 0.1, maxNewTokens: 20, seed: `${label}/secret` });
  const samples = [...unconditional.samples, ...completions.samples];
  const result = { ...unconditional, samples };
  o.log(`${label}: 10 unconditional samples (temperature 1.0), then 5 completions of "${SECRET_PROMPT}" (temperature 0.1), released at ε=${result.epsilon === 'unlimited' ? 'unlimited' : result.epsilon.toFixed(2)}:`);
  for (const s of samples) o.log(`  ${JSON.stringify(s.text.slice(0, 140))}`);
  return result;
}

/** The analyst's notebook. `researcher` is a privileged analyst: only they may fit without DP. */
export async function notebook(clients: { analyst: VeilClient; researcher: VeilClient }, o: NotebookOptions): Promise<NotebookRun> {
  const { analyst, researcher } = clients;
  const { log } = o;

  log('0. datasets:');
  const datasets = (await analyst.listDatasets()).map((d) => ({ name: d.name, rows: d.rows }));
  for (const d of datasets) log(`  ${d.name} (${d.rows} rows)`);

  log(`1. ds = client.dataset("${o.dataset}"); ds.preview()`);
  const ds = analyst.dataset(o.dataset);
  const preview = await ds.preview();
  log(`  ${preview.notice}`);
  showRows(log, preview.rows);

  log('2. rename context → text, map the traced preprocess, preview again');
  const X = prepared(analyst, o);
  const preprocessed = await X.preview();
  log(`  ${preprocessed.notice}; preprocess ran on ${preprocessed.dryRuns[0].rowsIn} synthetic rows, ${preprocessed.dryRuns[0].failures.count} failed`);
  showRows(log, preprocessed.rows);

  const { rows } = await ds.describe();
  log(`3. split({ testFrom: ${o.testFrom} }): train ${o.testFrom} rows, test ${rows - o.testFrom} rows`);

  log(`4. without privacy: GPT2.create("${o.base}").fit(train, { batchSize: ${o.plain.batchSize}, epochs: ${o.plain.epochs} }); eval(…, { targetEpsilon: 'unlimited' })`);
  const plainModel = await researcher.eval(GPT2.create(o.base, { maxSeqLen: o.maxSeqLen }).fit(prepared(researcher, o), o.plain), { targetEpsilon: 'unlimited', onProgress: log });
  const plainSamples = await samplesOf(plainModel, o, '5. non-private model');

  log(`6. with privacy: GPT2.create("${o.base}").fit(train, { batchSize: ${o.dp.batchSize}, epochs: ${o.dp.epochs} }); eval(…, { targetEpsilon: ${o.dp.targetEpsilon} })`);
  const { targetEpsilon, delta, ...dpFit } = o.dp;
  const dpModel = await analyst.eval(GPT2.create(o.base, { maxSeqLen: o.maxSeqLen }).fit(X, dpFit), { targetEpsilon, delta, onProgress: log });
  const dpSamples = await samplesOf(dpModel, o, '7. DP model');
  return { datasets, preview, preprocessed, plain: plainModel.result, dp: dpModel.result, samples: { plain: plainSamples, dp: dpSamples } };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      help: { type: 'boolean' },
      base: { type: 'string', default: NOTEBOOK_DEFAULTS.base },
      epochs: { type: 'string', default: String(NOTEBOOK_DEFAULTS.plain.epochs) },
      'dp-batch-size': { type: 'string', default: String(NOTEBOOK_DEFAULTS.dp.batchSize) },
      'dp-epochs': { type: 'string', default: String(NOTEBOOK_DEFAULTS.dp.epochs) },
      'max-seq-len': { type: 'string', default: String(NOTEBOOK_DEFAULTS.maxSeqLen) },
    },
  });
  if (values.help) {
    console.log('usage: node --import tsx examples/notebook.ts [--base random:tiny|gpt2-xl] [--epochs N] [--dp-batch-size N] [--dp-epochs N] [--max-seq-len N]');
    return;
  }
  const { withNotebookPrincipals } = await import('./setup.ts');
  const started = Date.now();
  await withNotebookPrincipals(async (clients) => {
    await notebook(clients, {
      ...NOTEBOOK_DEFAULTS,
      base: values.base!,
      maxSeqLen: Number(values['max-seq-len']),
      plain: { ...NOTEBOOK_DEFAULTS.plain, epochs: Number(values.epochs) },
      dp: { ...NOTEBOOK_DEFAULTS.dp, batchSize: Number(values['dp-batch-size']), epochs: Number(values['dp-epochs']) },
      log: (line) => console.log(line),
    });
  }, { dataset: NOTEBOOK_DEFAULTS.dataset, epsilon: NOTEBOOK_DEFAULTS.dp.targetEpsilon + 1, delta: NOTEBOOK_DEFAULTS.dp.delta });
  console.log(`notebook took ${((Date.now() - started) / 60000).toFixed(1)} min`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
