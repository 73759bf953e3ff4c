// Throughput of DP-SGD's per-step work outside the gradient graph, at GPT-2-small scale:
// the Gaussian noise (ziggurat on ChaCha20 words, fused add-and-scale) side by side with
// SecureStream's Box–Muller, and the fused AdamW / SGD loops.
//   node --import tsx bench/dp/noise-and-optimizers.ts [parameterCount=124439808]
import { SecureStream } from '../../engine/random/secure-stream.ts';
import { RunKey, fillGaussian, noiseWords, privatizeGradientSum } from '../../engine/dp/index.ts';
import { AdamW, Sgd } from '../../engine/optim/index.ts';

const count = Number(process.argv[2] ?? 124_439_808);
const runKey = RunKey.generate();

function time(label: string, work: () => void, items: number): number {
  const start = performance.now();
  work();
  const seconds = (performance.now() - start) / 1000;
  console.log(`${label.padEnd(52)} ${seconds.toFixed(3).padStart(7)} s  ${(items / seconds / 1e6).toFixed(1).padStart(6)} M/s`);
  return seconds;
}

console.log(`${count.toLocaleString()} parameters, Node ${process.version}`);
const buffer = new Float32Array(count);
time('warm-up (ziggurat fill, 1 M)', () => fillGaussian(noiseWords(runKey, 99), buffer.subarray(0, 1_000_000), 1), 1_000_000);
const zigFill = time('ziggurat fill (N(0,1) into Float32Array)', () => fillGaussian(noiseWords(runKey, 0), buffer, 1), count);
const zigAdd = time('privatizeGradientSum ((g + σC·z) / B, in place)', () => privatizeGradientSum(runKey, 1, [buffer], 0.8, 256), count);
const boxMullerCount = Math.min(count, 20_000_000);
const boxMuller = time(`SecureStream.fillGaussian Box–Muller (${(boxMullerCount / 1e6).toFixed(0)} M)`, () => {
  new SecureStream(new Uint8Array(32).fill(1)).fillGaussian(buffer.subarray(0, boxMullerCount), 1);
}, boxMullerCount);
console.log(`ziggurat fill vs Box–Muller: ${((boxMuller / boxMullerCount) / (zigFill / count)).toFixed(2)}× faster; fused add ${(zigAdd / zigFill).toFixed(2)}× the time of a fill`);

const grads = new Float32Array(count).fill(1e-3);
const adamw = new AdamW([count], { kind: 'adamw', weightDecay: 0.01 });
time('AdamW step (fused loop)', () => adamw.step([buffer], [grads], 1e-4), count);
time('AdamW step (again, warm)', () => adamw.step([buffer], [grads], 1e-4), count);
const sgd = new Sgd([count], { kind: 'sgd', momentum: 0.9, weightDecay: 0.01 });
time('SGD + momentum step', () => sgd.step([buffer], [grads], 1e-4), count);
