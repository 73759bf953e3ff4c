// One Veil side of bench/train/dp-step.ts, in its own process so that its peak RSS is its own:
// full training steps of a GPT-2-shaped model on a fixed batch — gradients (one session.run of
// the training-step graph, accumulated into the step's buffers), then for DP the Gaussian noise,
// then AdamW. Prints one JSON line.
//   node --import tsx bench/train/veil-step.ts dp|nonprivate IDS.json STEPS LAYERS [--profile]
import { readFileSync } from 'node:fs';
import { RunKey, privatizeGradientSum } from '../../engine/dp/index.ts';
import { presetConfig } from '../../engine/gpt2/config.ts';
import { randomWeights } from '../../engine/gpt2/weights.ts';
import { createOptimizer } from '../../engine/optim/index.ts';
import { sessionConfigFromEnv } from '../../engine/onnx/index.ts';
import { Gpt2GradientComputer } from '../../engine/train-graph/index.ts';
import type { ClippingMode } from '../../engine/train/types.ts';
import { profileOneStep } from './profile-step.ts';

const [modeArg, idsPath, stepsArg, layersArg, flag] = process.argv.slice(2);
const isPrivate = modeArg === 'dp';
const rows = JSON.parse(readFileSync(idsPath, 'utf8')) as number[][];
const steps = Number(stepsArg ?? 2);
const config = { ...presetConfig('gpt2'), nLayer: Number(layersArg ?? 12) };
const seqLen = rows[0].length;

const rss = () => process.memoryUsage().rss / 2 ** 20;
const weights = randomWeights(config, 'veil-bench');
const computer = new Gpt2GradientComputer({ config, rows, seqLen, session: sessionConfigFromEnv() });
const params = computer.paramSpecs.map((s) => weights.get(s.name)!.data);

if (flag === '--profile') {
  console.log(JSON.stringify({ mode: modeArg, profile: await profileOneStep(config, seqLen, isPrivate, params, rows) }));
  process.exit(0);
}

const sizes = params.map((p) => p.length);
const gradSum = sizes.map((n) => new Float32Array(n));
const optimizer = createOptimizer({ kind: 'adamw' }, sizes, computer.paramSpecs.map((s) => s.weightDecay ?? true));
const runKey = RunKey.generate();
const mode: ClippingMode = isPrivate ? { clipNorm: 1 } : 'nonprivate';
const batch = rows.map((_, i) => i);
const baseRssMb = rss();

async function step(k: number): Promise<{ total: number; gradients: number; noise: number; optimizer: number }> {
  const t0 = performance.now();
  for (const g of gradSum) g.fill(0);
  await computer.computeMicroBatch(params, batch, mode, gradSum);
  const t1 = performance.now();
  if (isPrivate) privatizeGradientSum(runKey, k, gradSum, 1.0, rows.length);
  else for (const g of gradSum) for (let i = 0; i < g.length; i++) g[i] /= rows.length;
  const t2 = performance.now();
  optimizer.step(params, gradSum, 1e-4);
  const t3 = performance.now();
  return { total: (t3 - t0) / 1e3, gradients: (t1 - t0) / 1e3, noise: (t2 - t1) / 1e3, optimizer: (t3 - t2) / 1e3 };
}

await step(0); // warm-up: session creation, arena growth
const timed = [];
for (let k = 1; k <= steps; k++) timed.push(await step(k));
await computer.release();
console.log(JSON.stringify({
  mode: modeArg,
  step_s: timed.map((t) => t.total),
  gradients_s: timed.map((t) => t.gradients),
  noise_s: timed.map((t) => t.noise),
  optimizer_s: timed.map((t) => t.optimizer),
  base_rss_mb: baseRssMb,
  peak_rss_mb: process.resourceUsage().maxRSS / 1024,
  params: sizes.reduce((a, b) => a + b, 0),
}));
