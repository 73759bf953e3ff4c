// Does a registered model open in transformers (and peft) and compute what Veil computes? For
// bench/large/run.sh, once the job has ended:
//   node --import tsx bench/large/check-logits.ts MODEL_ID DOWNLOADED_DIR
// Veil's side is the model as sampling and the audit open it (materializeRegisteredModel: an
// adapter-only DP-LoRA model merged onto its base, drawn from the recorded seed), run by
// Gpt2Model.load. Python's side (check_logits.py) opens DOWNLOADED_DIR, what `veil models download`
// wrote: with AutoModelForCausalLM, or for an adapter alone with PeftModel onto the same base
// folder. Both score one prompt; prints the last position's agreement as JSON, exit 1 past 1e-3.
import { spawnSync } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { materializeBaseModel, materializeRegisteredModel } from '../../activities/training/base-model.ts';
import { Gpt2Model } from '../../engine/gpt2/index.ts';
import { encode, END_OF_TEXT_ID } from '../../engine/tokenizer/gpt2-tokenizer.ts';
import { ArtifactStore } from '../../infra/storage/index.ts';
import { benchPython } from '../python/python.ts';

const PROMPT = 'The patient was admitted with';
const TOLERANCE = 1e-3;
const PYTHON_SCRIPT = fileURLToPath(new URL('./check_logits.py', import.meta.url));

function argmax(v: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
  return best;
}

const [modelId, downloaded] = process.argv.slice(2);
if (!modelId || !downloaded) {
  console.error('usage: check-logits.ts MODEL_ID DOWNLOADED_DIR');
  process.exit(2);
}
const store = await ArtifactStore.fromConfig();
const meta = JSON.parse(await readFile(join(downloaded, 'veil.json'), 'utf8')) as { base: string; adapter?: { seed: string; merged: boolean } };
// Rows are trained after <|endoftext|>, and prompted that way.
const ids = [END_OF_TEXT_ID, ...encode(PROMPT)];

const veilDir = join(tmpdir(), 'veil', 'check-logits', modelId);
let veil: Float32Array;
const started = Date.now();
try {
  await materializeRegisteredModel(store, modelId, veilDir);
  const model = await Gpt2Model.load(veilDir);
  try {
    const all = await model.sequenceLogits(ids);
    veil = all.slice((ids.length - 1) * model.config.vocabSize);
  } finally {
    await model.release();
  }
} finally {
  await rm(veilDir, { recursive: true, force: true });
}
const veilSeconds = (Date.now() - started) / 1000;

// An adapter alone goes onto the base it was trained on: the folder Veil drew from its seed.
const baseDir = meta.adapter && !meta.adapter.merged ? await materializeBaseModel(store, { base: meta.base, seed: meta.adapter.seed }, `${modelId}-base`) : undefined;
const python = spawnSync(benchPython(), [PYTHON_SCRIPT, downloaded, JSON.stringify(ids), ...(baseDir ? [baseDir] : [])], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
if (python.status !== 0) {
  console.error(python.stderr);
  process.exit(1);
}
const torch = JSON.parse(python.stdout) as { logits: number[]; opened: string; base_logits?: number[] };

/** Largest |a − b| over the largest |b|. */
function relativeError(a: ArrayLike<number>, b: readonly number[]): { diff: number; relative: number } {
  let diff = 0;
  let scale = 0;
  b.forEach((t, i) => {
    diff = Math.max(diff, Math.abs(a[i] - t));
    scale = Math.max(scale, Math.abs(t));
  });
  return { diff, relative: diff / scale };
}
const { diff, relative } = relativeError(veil, torch.logits);
// How far the adapter moves the base's logits: a check that agrees within far less says something.
const adapterEffect = torch.base_logits ? relativeError(torch.base_logits, torch.logits).relative : undefined;
console.log(
  JSON.stringify({
    prompt: PROMPT,
    tokens: ids.length,
    opened: torch.opened,
    maxAbsDiff: Number(diff.toExponential(3)),
    maxRelativeError: Number(relative.toExponential(3)),
    argmax: { veil: argmax(veil), torch: argmax(torch.logits) },
    ...(adapterEffect !== undefined ? { adapterEffectRelative: Number(adapterEffect.toExponential(3)) } : {}),
    veilSeconds,
  }),
);
process.exitCode = relative <= TOLERANCE && argmax(veil) === argmax(torch.logits) ? 0 : 1;
