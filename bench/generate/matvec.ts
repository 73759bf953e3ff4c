// Why batch-1 decoding stops where it does: the speed at which onnxruntime's matrix products read
// GPT-2 small's block matrices one token at a time (48 products [1 × K] · [K × N], 340 MB of
// float32, as 12 blocks' c_attn, c_proj, c_fc and mlp c_proj in sequence), against a plain
// WebAssembly SIMD read of the same bytes. numpy's side is bench/generate/bandwidth.py.
//
//   node --import tsx bench/generate/matvec.ts
//
// Prints GB/s of weights read per second for: MatMul with pre-packed weights (what Veil's
// decoding runs) at 1–4 intra-op threads, with spinning threads, without pre-packing, the same as
// Gemm with transB, and one WebAssembly thread summing the bytes (bench/generate/read-sum.wat).
import ort from 'onnxruntime-node';
import { Graph, op, serializeGraph } from '../../engine/onnx/index.ts';
import { instantiateWat, type KernelMemory } from '../../engine/random/wat.ts';

const C = 768;
const LAYERS = 12;
const SHAPES: [number, number][] = [[C, 3 * C], [C, C], [C, 4 * C], [4 * C, C]];
const RUNS = 40;

function random(n: number, seed: number): Float32Array {
  const a = new Float32Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    a[i] = (s / 2 ** 32 - 0.5) * 0.04;
  }
  return a;
}

interface Variant { label: string; product: 'matmul' | 'gemm'; threads: number; spinning: boolean; prepack: boolean }

async function onnxruntime(v: Variant): Promise<number> {
  const g = new Graph({ name: 'matvec' });
  let x = g.input('x', 'float32', [1, C]);
  let bytes = 0;
  for (let l = 0; l < LAYERS; l++) {
    for (const [k, n] of SHAPES) {
      const w = random(k * n, l * 4 + k + n);
      let y = v.product === 'matmul'
        ? op.matmul(x, g.initializer(`w${l}_${k}_${n}`, 'float32', [k, n], w))
        : op.gemm(x, g.initializer(`w${l}_${k}_${n}`, 'float32', [n, k], w), undefined, { transB: true });
      bytes += 4 * k * n;
      if (n === 3 * C) y = op.slice(y, { axis: 1, start: 0, end: C }); // q only, as the next product's input
      x = y;
    }
  }
  g.output(x, 'y');
  const session = await ort.InferenceSession.create(serializeGraph(g), {
    intraOpNumThreads: v.threads, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all',
    extra: { session: { 'intra_op.allow_spinning': v.spinning ? '1' : '0', disable_prepacking: v.prepack ? '0' : '1' } },
  });
  const feeds = { x: new ort.Tensor('float32', random(C, 1), [1, C]) };
  for (let i = 0; i < 5; i++) await session.run(feeds);
  const t0 = performance.now();
  for (let i = 0; i < RUNS; i++) await session.run(feeds);
  const ms = (performance.now() - t0) / RUNS;
  await session.release();
  return bytes / ms / 1e6;
}

async function webAssemblyRead(): Promise<number> {
  const kernel = await instantiateWat<{ memory: KernelMemory & { grow(pages: number): void }; sum(at: number, bytes: number): number }>(new URL('./read-sum.wat', import.meta.url));
  const bytes = LAYERS * SHAPES.reduce((s, [k, n]) => s + 4 * k * n, 0);
  kernel.memory.grow(Math.ceil(bytes / 65536));
  new Float32Array(kernel.memory.buffer, 0, bytes / 4).set(random(bytes / 4, 7));
  kernel.sum(0, bytes);
  const t0 = performance.now();
  for (let i = 0; i < 10; i++) kernel.sum(0, bytes);
  return bytes / ((performance.now() - t0) / 10) / 1e6;
}

const variants: Variant[] = [
  ...[1, 2, 3, 4].map((threads) => ({ label: `MatMul, pre-packed, ${threads} thread(s)`, product: 'matmul' as const, threads, spinning: false, prepack: true })),
  { label: 'MatMul, pre-packed, 2 threads, spinning', product: 'matmul', threads: 2, spinning: true, prepack: true },
  { label: 'MatMul, not pre-packed, 2 threads', product: 'matmul', threads: 2, spinning: false, prepack: false },
  { label: 'Gemm transB, pre-packed, 2 threads', product: 'gemm', threads: 2, spinning: false, prepack: true },
];
for (const v of variants) console.log(`${v.label.padEnd(44)} ${(await onnxruntime(v)).toFixed(1).padStart(5)} GB/s`);
console.log(`${'WebAssembly SIMD, 1 thread, sum of the bytes'.padEnd(44)} ${(await webAssemblyRead()).toFixed(1).padStart(5)} GB/s`);
