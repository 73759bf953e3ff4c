// Where a training step's time goes inside onnxruntime: one profiled run of the training-step
// graph (after a warm-up run), node times summed by op type and by part of the graph (forward,
// backward, DP norms, clipped sums — the graph's node names carry the builder's scopes).
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import type { Gpt2Config } from '../../engine/gpt2/config.ts';
import { parameterShapes } from '../../engine/gpt2/weights.ts';
import { serializeGraph } from '../../engine/onnx/index.ts';
import { buildTrainStepGraph, trainGraphNames } from '../../engine/train-graph/index.ts';

interface ProfileEvent {
  cat: string;
  name: string;
  dur: number;
  ts: number;
  args?: { op_name?: string };
}

function partOf(node: string): string {
  if (node.includes('dp_norm/')) return 'dp norms';
  if (node.startsWith('clip/')) return 'clip factors + clipped sums';
  if (/_grad\//.test(node)) return 'backward';
  if (node.startsWith('loss/')) return 'head + loss (fwd & bwd)';
  return 'forward + rest';
}

export async function profileOneStep(config: Gpt2Config, seqLen: number, isPrivate: boolean, params: Float32Array[], rows: number[][]): Promise<unknown> {
  const profileDir = mkdtempSync(join(tmpdir(), 'veil-profile-'));
  const graph = buildTrainStepGraph(config, { seqLen, mode: isPrivate ? 'clipped' : 'sum' });
  const session = await ort.InferenceSession.create(serializeGraph(graph), {
    intraOpNumThreads: 2, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all', enableProfiling: true,
    profileFilePrefix: join(profileDir, 'train-step'),
  });
  const feeds: Record<string, ort.Tensor> = {};
  parameterShapes(config).forEach(([name, shape], k) => { feeds[name] = new ort.Tensor('float32', params[k], shape); });
  const B = rows.length;
  feeds[trainGraphNames.inputIds] = new ort.Tensor('int64', BigInt64Array.from(rows.flat(), BigInt), [B, seqLen]);
  feeds[trainGraphNames.attentionMask] = new ort.Tensor('int64', new BigInt64Array(B * seqLen).fill(1n), [B, seqLen]);
  if (isPrivate) feeds[trainGraphNames.clipNorm] = new ort.Tensor('float32', Float32Array.of(1), []);
  await session.run(feeds);
  const t0 = performance.now();
  await session.run(feeds);
  const runMs = performance.now() - t0;
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
  for (const e of nodes) {
    const op = e.args?.op_name ?? '?';
    byOp.set(op, (byOp.get(op) ?? 0) + e.dur / 1e3);
    const part = partOf(e.name);
    byPart.set(part, (byPart.get(part) ?? 0) + e.dur / 1e3);
  }
  const sorted = (m: Map<string, number>) => Object.fromEntries([...m].sort((a, b) => b[1] - a[1]).map(([k, v]) => [k, Math.round(v)]));
  return { run_ms: Math.round(runMs), node_ms_by_part: sorted(byPart), node_ms_by_op: sorted(byOp) };
}
