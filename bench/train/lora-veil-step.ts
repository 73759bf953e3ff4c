// The Veil side of bench/train/dp-lora-step.ts, in its own process (its peak RSS is its own): DP-LoRA
// training steps of a GPT-2-shaped model (random frozen base) on a fixed batch: the adapters'
// clipped gradients (one session.run, no gradient formed for the base), Gaussian noise on the
// adapters, AdamW on the adapters. Prints one JSON line.
//   node --import tsx bench/train/lora-veil-step.ts IDS.json STEPS LAYERS RANK TARGETS(comma-separated)
import { readFileSync } from 'node:fs';
import { RunKey, privatizeGradientSum } from '../../engine/dp/index.ts';
import { presetConfig } from '../../engine/gpt2/config.ts';
import { randomWeights } from '../../engine/gpt2/weights.ts';
import { initAdapters, type LoraSpec, type LoraTarget } from '../../engine/lora/adapters.ts';
import { createOptimizer } from '../../engine/optim/index.ts';
import { sessionConfigFromEnv } from '../../engine/onnx/index.ts';
import { LoraGradientComputer } from '../../engine/train-graph/lora-gradient-computer.ts';

const [idsPath, stepsArg, layersArg, rankArg, targetsArg] = process.argv.slice(2);
const rows = JSON.parse(readFileSync(idsPath, 'utf8')) as number[][];
const steps = Number(stepsArg ?? 2);
const config = { ...presetConfig('gpt2'), nLayer: Number(layersArg ?? 12) };
const rank = Number(rankArg ?? 8);
const lora: LoraSpec = { rank, alpha: 2 * rank, targets: (targetsArg ?? 'attn.c_attn,attn.c_proj').split(',') as LoraTarget[] };
const batch = rows.map((_, i) => i);
const runKey = RunKey.generate();

const computer = new LoraGradientComputer({ config, base: randomWeights(config, 'veil-bench'), lora, rows, seqLen: rows[0].length, session: sessionConfigFromEnv() });
const adapters = initAdapters(config, lora, 'veil-bench');
const params = computer.paramSpecs.map((s) => adapters.get(s.name)!.data);
const sizes = params.map((p) => p.length);
const gradSum = sizes.map((n) => new Float32Array(n));
const optimizer = createOptimizer({ kind: 'adamw' }, sizes, computer.paramSpecs.map(() => true));

interface StepTimes { total: number; gradients: number; noise: number; optimizer: number }
async function step(k: number): Promise<StepTimes> {
  const t0 = performance.now();
  for (const g of gradSum) g.fill(0);
  await computer.computeMicroBatch(params, batch, { clipNorm: 1 }, gradSum);
  const t1 = performance.now();
  await privatizeGradientSum(runKey, k, gradSum, 1.0, rows.length);
  const t2 = performance.now();
  await optimizer.step(params, gradSum, 1e-4);
  const t3 = performance.now();
  return { total: (t3 - t0) / 1e3, gradients: (t1 - t0) / 1e3, noise: (t2 - t1) / 1e3, optimizer: (t3 - t2) / 1e3 };
}

await step(0); // warm-up: session creation, arena growth
const times: StepTimes[] = [];
for (let k = 1; k <= steps; k++) times.push(await step(k));
await computer.release();
console.log(JSON.stringify({
  mode: 'veil-dp-lora',
  step_s: times.map((t) => t.total), gradients_s: times.map((t) => t.gradients), noise_s: times.map((t) => t.noise), optimizer_s: times.map((t) => t.optimizer),
  peak_rss_mb: process.resourceUsage().maxRSS / 1024,
  trainable_params: sizes.reduce((a, b) => a + b, 0),
}));
