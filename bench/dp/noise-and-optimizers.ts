// Throughput of DP-SGD's per-step work outside the gradient graph, at GPT-2-small scale, new
// against previous side by side in one run: the Gaussian noise (ChaCha20 from node:crypto, the
// ziggurat's fast path in WebAssembly SIMD, fused add-and-scale) against the previous JS loop,
// the prefetched noise's add-and-scale (NoiseKernel.addScaled) against the JS loop the noise
// prefetcher runs, and the AdamW / SGD kernels against the previous JS loop; then AdamW reading a
// DP gradient (noise added as it reads, as the trainer runs it) with its moments and the gradient
// in ordinary arrays against the same in the kernel's optimizer memory (alternating, medians of 3). Wall and CPU seconds are
// both printed: on a shared machine the CPU time is the steadier of the two.
//   node --import tsx bench/dp/noise-and-optimizers.ts [parameterCount=124439808] [--json]
import { RunKey, privatizeGradientSum } from '../../engine/dp/index.ts';
import { NoiseKernel } from '../../engine/dp/noise-kernel.ts';
import { AdamW, OptimizerMemory, Sgd, type GradientTransform } from '../../engine/optim/index.ts';
import { median } from '../stats.ts';
import { previousAdamW, previousPrivatize } from './previous-implementation.ts';

const args = process.argv.slice(2);
const count = Number(args.find((a) => !a.startsWith('--')) ?? 124_439_808);
const json = args.includes('--json');
const runKey = RunKey.generate();
const log = (line: string) => {
  if (!json) console.log(line);
};

interface Timing { wall: number; cpu: number }

async function time(label: string, work: () => unknown): Promise<Timing> {
  const cpuStart = process.cpuUsage();
  const start = performance.now();
  await work();
  const wall = (performance.now() - start) / 1000;
  const used = process.cpuUsage(cpuStart);
  const cpu = (used.user + used.system) / 1e6;
  log(`${label.padEnd(46)} ${wall.toFixed(3).padStart(7)} s wall ${cpu.toFixed(3).padStart(7)} s CPU  ${(count / wall / 1e6).toFixed(1).padStart(6)} M/s`);
  return { wall, cpu };
}

log(`${count.toLocaleString()} parameters, Node ${process.version}`);
const buffer = new Float32Array(count).fill(1e-3);
const grads = new Float32Array(count).fill(1e-3);
const m = new Float32Array(count).fill(1e-4);
const v = new Float32Array(count).fill(1e-6);
const prefetched = new Float32Array(new SharedArrayBuffer(count * 4)).fill(0.5); // as the prefetcher holds it
const noiseKernel = await NoiseKernel.load();
/** The noise prefetcher's add-and-scale loop (engine/dp/noise-prefetch.ts privatize). */
function addScaledLoop(g: Float32Array, noise: Float32Array, scale: number): void {
  for (let i = 0; i < g.length; i++) g[i] = (g[i] + noise[i]) * scale;
}
// Warm-up: compile the kernels and let V8 optimise both sides' code (a training run is in this
// steady state after its first step); the buffers above are already touched.
const warm = 2_000_000;
await privatizeGradientSum(runKey, 99, [buffer.subarray(0, warm)], 1, 1);
previousPrivatize(runKey, 99, buffer.subarray(0, warm), 1, 1);
previousAdamW(buffer.subarray(0, warm), grads.subarray(0, warm), m.subarray(0, warm), v.subarray(0, warm), 1e-4, 1);
await new AdamW([warm], { kind: 'adamw' }).step([buffer.subarray(0, warm)], [grads.subarray(0, warm)], 1e-4);
addScaledLoop(grads.subarray(0, warm), prefetched, 1);
noiseKernel.addScaled(grads.subarray(0, warm), prefetched, 1);
await new Sgd([warm], { kind: 'sgd', momentum: 0.9 }).step([buffer.subarray(0, warm)], [grads.subarray(0, warm)], 1e-4);

const noiseBefore = await time('noise, previous JS ziggurat (RNG v1)', () => previousPrivatize(runKey, 1, buffer, 0.8, 1 / 256));
const noiseNow = await time('noise, WebAssembly SIMD (RNG v2)', () => privatizeGradientSum(runKey, 2, [buffer], 0.8, 256));
const addLoop = await time('prefetched noise add, JS loop', () => addScaledLoop(grads, prefetched, 1 / 256));
const addKernel = await time('prefetched noise add, WebAssembly SIMD', () => noiseKernel.addScaled(grads, prefetched, 1 / 256));
grads.fill(1e-3);
const adamBefore = await time('AdamW, previous JS loop', () => previousAdamW(buffer, grads, m, v, 1e-4, 2));
const adamw = new AdamW([count], { kind: 'adamw', weightDecay: 0.01 }, undefined, { kind: 'adamw', stepCount: 1, slots: { exp_avg: [m], exp_avg_sq: [v] } });
const adamNow = await time('AdamW, WebAssembly SIMD', () => adamw.step([buffer], [grads], 1e-4));
const sgd = new Sgd([count], { kind: 'sgd', momentum: 0.9, weightDecay: 0.01 }, undefined, { kind: 'sgd', stepCount: 1, slots: { momentum_buffer: [m] } });
const sgdNow = await time('SGD + momentum, WebAssembly SIMD', () => sgd.step([buffer], [grads], 1e-4));

// The trainer's DP step: the prefetched noise added and the sum scaled as AdamW reads it.
const noisyGradient: GradientTransform = {
  forEachPiece: (lengths, visit) => {
    visit(0, 0, lengths[0], 1 / 256, prefetched);
    return Promise.resolve();
  },
};
const memory = (await OptimizerMemory.reserve([count, count, count]))!;
const memoryGrads = memory.copyIn(grads);
const adamwInMemory = new AdamW([count], { kind: 'adamw', weightDecay: 0.01 }, undefined, adamw.state(), memory);
await adamwInMemory.step([buffer], [memoryGrads], 1e-4, noisyGradient); // first touch of its pages
// Alternating, median of each: the two differ by less than one run's wobble on a shared machine.
const noisyTimes: Timing[] = [];
const noisyMemoryTimes: Timing[] = [];
for (let round = 0; round < 3; round++) {
  noisyTimes.push(await time('AdamW reading DP noise, ordinary arrays', () => adamw.step([buffer], [grads], 1e-4, noisyGradient)));
  noisyMemoryTimes.push(await time('AdamW reading DP noise, optimizer memory', () => adamwInMemory.step([buffer], [memoryGrads], 1e-4, noisyGradient)));
}
const medianTiming = (times: readonly Timing[]): Timing => ({ wall: median(times.map((t) => t.wall)), cpu: median(times.map((t) => t.cpu)) });
const adamNoisy = medianTiming(noisyTimes);
const adamNoisyMemory = medianTiming(noisyMemoryTimes);

const ratio = (before: Timing, now: Timing, key: keyof Timing) => before[key] / now[key];
log(`noise: ${ratio(noiseBefore, noiseNow, 'wall').toFixed(2)}× faster (wall), ${ratio(noiseBefore, noiseNow, 'cpu').toFixed(2)}× (CPU); ` +
  `prefetched noise add: ${ratio(addLoop, addKernel, 'wall').toFixed(2)}× (wall), ${ratio(addLoop, addKernel, 'cpu').toFixed(2)}× (CPU); ` +
  `AdamW: ${ratio(adamBefore, adamNow, 'wall').toFixed(2)}× (wall), ${ratio(adamBefore, adamNow, 'cpu').toFixed(2)}× (CPU); ` +
  `AdamW reading DP noise in optimizer memory: ${ratio(adamNoisy, adamNoisyMemory, 'wall').toFixed(2)}× (wall), ${ratio(adamNoisy, adamNoisyMemory, 'cpu').toFixed(2)}× (CPU)`);
if (json) {
  console.log(JSON.stringify({
    parameters: count,
    noise: { before: noiseBefore, now: noiseNow },
    noiseAdd: { before: addLoop, now: addKernel },
    adamw: { before: adamBefore, now: adamNow },
    adamwMemory: { before: adamNoisy, now: adamNoisyMemory },
    sgd: { now: sgdNow },
  }));
}
