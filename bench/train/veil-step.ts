// One Veil side of bench/train/dp-step.ts, in its own process so that its peak RSS is its own:
// full training steps of a GPT-2-shaped model on a fixed batch — gradients (one session.run of
// the training-step graph, accumulated into the step's buffers), then for DP the Gaussian noise
// (drawn by a worker thread during the optimizer and the next gradients and added by AdamW as it
// reads the gradients, as the trainer does; VEIL_NOISE_PREFETCH=0 draws and adds it inline first),
// then AdamW. 'pair' alternates non-private and DP steps in one process, in blocks of a few, so
// that both see the same load on a shared machine (its memory is not either mode's). Prints one
// JSON line.
//   node --import tsx bench/train/veil-step.ts dp|nonprivate|pair IDS.json STEPS LAYERS [MICRO_BATCHES | --profile]
import { readFileSync } from 'node:fs';
import { NoisePrefetcher, RunKey, privatizeGradientSum } from '../../engine/dp/index.ts';
import { presetConfig } from '../../engine/gpt2/config.ts';
import { randomWeights } from '../../engine/gpt2/weights.ts';
import { OptimizerMemory, createOptimizer, scaledGradient } from '../../engine/optim/index.ts';
import { sessionConfigFromEnv } from '../../engine/onnx/index.ts';
import { Gpt2GradientComputer } from '../../engine/train-graph/index.ts';
import type { ClippingMode } from '../../engine/train/types.ts';
import { profileOneStep } from './profile-step.ts';

const [modeArg, idsPath, stepsArg, layersArg, flag] = process.argv.slice(2);
const rows = JSON.parse(readFileSync(idsPath, 'utf8')) as number[][];
const steps = Number(stepsArg ?? 2);
const config = { ...presetConfig('gpt2'), nLayer: Number(layersArg ?? 12) };
const seqLen = rows[0].length;
const batch = rows.map((_, i) => i);
// Micro-batches per logical batch (all the same rows): noise and AdamW are paid once per step.
const microBatches = flag !== undefined && flag !== '--profile' ? Number(flag) : 1;
const runKey = RunKey.generate();
// As the trainer does for models this size: the noise is drawn by a worker thread during the
// gradients (VEIL_NOISE_PREFETCH=0: drawn inline after them, on the critical path).
const prefetchNoise = process.env.VEIL_NOISE_PREFETCH !== '0';
// As the trainer does: the gradient sums and AdamW's moments in the optimizer kernel's memory,
// updated in place (VEIL_OPTIMIZER_MEMORY=0: ordinary arrays, copied through the kernel).
const optimizerMemory = process.env.VEIL_OPTIMIZER_MEMORY !== '0';
/** Measured steps per mode in each block of 'pair' (after one unmeasured lead-in step). */
const PAIR_BLOCK = 2;

const weights = randomWeights(config, 'veil-bench');
const specs = new Gpt2GradientComputer({ config, rows, seqLen }).paramSpecs;
const params = specs.map((s) => weights.get(s.name)!.data);

if (flag === '--profile') {
  console.log(JSON.stringify({ mode: modeArg, profile: await profileOneStep(config, seqLen, modeArg === 'dp', params, rows) }));
  process.exit(0);
}

interface StepTimes { total: number; gradients: number; noise: number; optimizer: number }

/** One mode's training step with its own gradient buffers and optimizer state. */
async function stepper(isPrivate: boolean): Promise<{ step(k: number): Promise<StepTimes>; times: StepTimes[]; release(): Promise<void> }> {
  const computer = new Gpt2GradientComputer({ config, rows, seqLen, session: sessionConfigFromEnv() });
  const sizes = params.map((p) => p.length);
  const memory = optimizerMemory ? await OptimizerMemory.reserve([...sizes, ...sizes, ...sizes]) : undefined; // gradients, exp_avg, exp_avg_sq
  const gradSum = sizes.map((n) => memory?.allocate(n) ?? new Float32Array(n));
  const optimizer = createOptimizer({ kind: 'adamw' }, sizes, specs.map((s) => s.weightDecay ?? true), undefined, memory);
  const mode: ClippingMode = isPrivate ? { clipNorm: 1 } : 'nonprivate';
  const times: StepTimes[] = [];
  const prefetcher = isPrivate && prefetchNoise ? new NoisePrefetcher(runKey, sizes.reduce((a, b) => a + b, 0), 1.0) : undefined;
  async function step(k: number): Promise<StepTimes> {
    const t0 = performance.now();
    if (prefetcher && k === 0) prefetcher.request(k);
    for (const g of gradSum) g.fill(0);
    // As the trainer: the first micro-batch's gradients are written straight into the zeroed sums.
    for (let m = 0; m < microBatches; m++) await computer.computeMicroBatch(params, batch, mode, gradSum, { gradSumIsZero: m === 0 });
    const t1 = performance.now();
    const logicalBatch = rows.length * microBatches;
    if (prefetcher) {
      // As the trainer: the optimizer adds the prefetched noise as it reads the gradients (so
      // optimizer_s holds both), and the next step's noise is drawn during it and the next gradients.
      const noise = prefetcher.noise(k, logicalBatch);
      prefetcher.request(k + 1);
      const t2 = performance.now();
      await optimizer.step(params, gradSum, 1e-4, noise);
      const t3 = performance.now();
      return { total: (t3 - t0) / 1e3, gradients: (t1 - t0) / 1e3, noise: (t2 - t1) / 1e3, optimizer: (t3 - t2) / 1e3 };
    }
    if (isPrivate) await privatizeGradientSum(runKey, k, gradSum, 1.0, logicalBatch);
    const t2 = performance.now();
    await optimizer.step(params, gradSum, 1e-4, isPrivate ? undefined : scaledGradient(1 / logicalBatch)); // as the trainer: the mean read by the optimizer
    const t3 = performance.now();
    return { total: (t3 - t0) / 1e3, gradients: (t1 - t0) / 1e3, noise: (t2 - t1) / 1e3, optimizer: (t3 - t2) / 1e3 };
  }
  return { step, times, release: async () => { await prefetcher?.close(); await computer.release(); } };
}

const report = (t: StepTimes[]) => ({
  step_s: t.map((x) => x.total), gradients_s: t.map((x) => x.gradients), noise_s: t.map((x) => x.noise), optimizer_s: t.map((x) => x.optimizer),
});
const baseRssMb = process.memoryUsage().rss / 2 ** 20;
const modes = modeArg === 'pair' ? [false, true] : [modeArg === 'dp'];
const steppers = await Promise.all(modes.map(stepper));
if (steppers.length === 1) {
  await steppers[0].step(0); // warm-up: session creation, arena growth
  for (let k = 1; k <= steps; k++) steppers[0].times.push(await steppers[0].step(k));
} else {
  // Alternating step by step would charge DP's work to non-DP: the worker draws the next DP
  // step's noise while the non-private step runs. So the modes alternate in blocks, and each
  // block's first step is not measured: it absorbs what the other mode left running (or, for DP,
  // finds its noise drawn in the other mode's time). The first blocks' lead-ins are the warm-up.
  for (let k = 0; steppers[0].times.length < steps; k += PAIR_BLOCK + 1) {
    for (const s of steppers) {
      await s.step(k);
      for (let b = 1; b <= PAIR_BLOCK && s.times.length < steps; b++) s.times.push(await s.step(k + b));
    }
  }
}
for (const s of steppers) await s.release();
console.log(JSON.stringify({
  mode: modeArg,
  ...(modeArg === 'pair' ? { nonprivate: report(steppers[0].times), dp: report(steppers[1].times) } : report(steppers[0].times)),
  base_rss_mb: baseRssMb,
  peak_rss_mb: process.resourceUsage().maxRSS / 1024,
  params: params.reduce((n, p) => n + p.length, 0),
}));
