// Where a training step's time goes inside onnxruntime: one profiled run of the training-step
// graph (after a warm-up run), node times summed by op type, by part of the graph (forward,
// backward, DP norms, clipped sums — the graph's node names carry the builder's scopes) and by
// node class (the same node in every layer counted together), with the share of matrix products
// and their speed. Shares move less than absolute times when the machine is shared: compare those.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import type { Gpt2Config } from '../../engine/gpt2/config.ts';
import { parameterShapes } from '../../engine/gpt2/weights.ts';
import { serializeGraph } from '../../engine/onnx/index.ts';
import { buildTrainStepGraph, trainGraphNames } from '../../engine/train-graph/index.ts';

type Shapes = Record<string, number[]>[];

interface ProfileEvent {
  cat: string;
  name: string;
  dur: number;
  ts: number;
  args?: { op_name?: string; input_type_shape?: Shapes; output_type_shape?: Shapes };
}

const matrixProducts = new Set(['Gemm', 'MatMul', 'FusedMatMul']);

function partOf(node: string): string {
  if (node.includes('dp_norm/')) return 'dp norms';
  if (node.startsWith('clip/')) return 'clip factors + clipped sums';
  if (/_grad\//.test(node)) return 'backward';
  if (node.startsWith('loss/')) return 'head + loss (fwd & bwd)';
  return 'forward + rest';
}

const dimsOf = (shapes: Shapes | undefined): number[][] => (shapes ?? []).map((s) => Object.values(s)[0] ?? []);
const count = (dims: number[]) => dims.reduce((a, b) => a * b, 1);

/**
 * FLOPs of a matrix product from its shapes alone (the profile has no attributes): C = A·B with
 * A holding batch·m·k values and C batch·m·n, whichever operand is transposed, is 2·|A|·n.
 */
function productFlops(e: ProfileEvent): number {
  const [a] = dimsOf(e.args?.input_type_shape);
  const [c] = dimsOf(e.args?.output_type_shape);
  return a && c ? 2 * count(a) * c[c.length - 1] : 0;
}

/** 'h7_grad/gemm_412_node_kernel_time' and its copies in the other layers → 'hL_grad/gemm [[1024,3072],[768,3072]]'. */
function nodeClass(e: ProfileEvent): string {
  const name = e.name.replace(/_kernel_time$/, '').replace(/^h\d+(_grad)?\//, 'hL$1/').replace(/_\d+_node/g, '');
  return `${name} ${JSON.stringify(dimsOf(e.args?.input_type_shape))}`;
}

export async function profileOneStep(config: Gpt2Config, seqLen: number, isPrivate: boolean, params: Float32Array[], rows: number[][]): Promise<unknown> {
  const profileDir = mkdtempSync(join(tmpdir(), 'veil-profile-'));
  const graph = buildTrainStepGraph(config, { seqLen, mode: isPrivate ? 'clipped' : 'sum' });
  const threads = Number(process.env.VEIL_ORT_THREADS ?? 2);
  const session = await ort.InferenceSession.create(serializeGraph(graph), {
    intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all', enableProfiling: true,
    // As the trainer's session (train-step-session.ts). With onnxruntime's memory pattern on, the
    // step's large buffers were faulted in afresh on every run: the head's logits product took 675
    // instead of 264 ms and its LogSoftmax 322 instead of < 40, and the step 5.6 instead of 3.5 s.
    enableMemPattern: false,
    profileFilePrefix: join(profileDir, 'train-step'),
  });
  const feeds: Record<string, ort.Tensor> = {};
  parameterShapes(config).forEach(([name, shape], k) => { feeds[name] = new ort.Tensor('float32', params[k], shape); });
  const B = rows.length;
  feeds[trainGraphNames.inputIds] = new ort.Tensor('int64', BigInt64Array.from(rows.flat(), BigInt), [B, seqLen]);
  feeds[trainGraphNames.attentionMask] = new ort.Tensor('int64', new BigInt64Array(B * seqLen).fill(1n), [B, seqLen]);
  if (isPrivate) feeds[trainGraphNames.clipNorm] = new ort.Tensor('float32', Float32Array.of(1), []);
  await session.run(feeds);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await session.run(feeds);
  const runMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  await session.endProfiling(); // writes <prefix>_<time>.json
  await session.release();
  const file = readdirSync(profileDir).find((f) => f.endsWith('.json'));
  if (!file) throw new Error(`onnxruntime wrote no profile in ${profileDir}`);
  const events = JSON.parse(readFileSync(join(profileDir, file), 'utf8')) as ProfileEvent[];
  rmSync(profileDir, { recursive: true, force: true });

  // Only the second run: its events start after the first run's last event.
  const runs = events.filter((e) => e.name === 'model_run');
  const secondStart = runs.length >= 2 ? runs[runs.length - 1].ts : 0;
  const nodes = events.filter((e) => e.cat === 'Node' && e.ts >= secondStart && e.name.endsWith('_kernel_time'));
  const byOp = new Map<string, number>();
  const byPart = new Map<string, number>();
  const byClass = new Map<string, { ms: number; count: number; flops: number }>();
  let totalMs = 0;
  let productMs = 0;
  let productFlopsSum = 0;
  for (const e of nodes) {
    const ms = e.dur / 1e3;
    const op = e.args?.op_name ?? '?';
    const flops = matrixProducts.has(op) ? productFlops(e) : 0;
    totalMs += ms;
    if (matrixProducts.has(op)) { productMs += ms; productFlopsSum += flops; }
    byOp.set(op, (byOp.get(op) ?? 0) + ms);
    const part = partOf(e.name);
    byPart.set(part, (byPart.get(part) ?? 0) + ms);
    const cls = byClass.get(nodeClass(e)) ?? { ms: 0, count: 0, flops: 0 };
    byClass.set(nodeClass(e), { ms: cls.ms + ms, count: cls.count + 1, flops: cls.flops + flops });
  }
  const sorted = (m: Map<string, number>) => Object.fromEntries([...m].sort((a, b) => b[1] - a[1]).map(([k, v]) => [k, Math.round(v)]));
  const topNodes = [...byClass].sort((a, b) => b[1].ms - a[1].ms).slice(0, 25).map(([k, v]) => {
    const speed = v.flops > 0 ? `, ${(v.flops / v.ms / 1e6).toFixed(1)} GFLOP/s` : '';
    return `${v.ms.toFixed(0).padStart(6)} ms ${(100 * v.ms / totalMs).toFixed(1).padStart(4)}% ×${v.count} ${k}${speed}`;
  });
  return {
    threads,
    run_ms: Math.round(runMs),
    // CPU time of the whole process during the run: with spinning threads it includes their spin.
    cpu_ms: Math.round((cpu.user + cpu.system) / 1e3),
    node_ms: Math.round(totalMs),
    matrix_products: {
      share_of_node_time: Number((productMs / totalMs).toFixed(3)),
      gflop: Number((productFlopsSum / 1e9).toFixed(1)),
      gflop_per_s_in_their_nodes: Number((productFlopsSum / productMs / 1e6).toFixed(1)),
    },
    node_ms_by_part: sorted(byPart),
    node_ms_by_op: sorted(byOp),
    top_node_classes: topNodes,
  };
}
