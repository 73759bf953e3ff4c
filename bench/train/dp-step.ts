// DP training-step cost on a GPT-2-small-shaped model (random weights), one logical batch of
// packed rows, measured side by side in one run on this machine, each side in its own process:
//   Veil non-private   gradients (one session.run) + AdamW
//   Veil DP            gradients with book-keeping clipping (the same one session.run) + noise + AdamW
//   (the DP ÷ non-DP time ratio comes from one process alternating the two, so both see the same
//    load on a shared machine; peak memory from one process per mode)
//   Opacus DP          ghost clipping (two backward passes) + noise + AdamW, PyTorch CPU
//   PyTorch            non-private, for context
//   numpy sgemm        the machine's matmul speed, before and after (the machine is shared)
// Prints DP ÷ non-DP step time and peak memory, Veil DP ÷ Opacus tokens/s, and GFLOP/s.
//
//   node --import tsx bench/train/dp-step.ts [--batch 8] [--seq 128] [--layers 12] [--steps 4]
//        [--micro-batches 1] [--threads 2] [--skip-torch] [--profile]
// The logical batch is --micro-batches × --batch rows (Veil; Opacus runs one physical batch).
// VEIL_PYTHON names a Python with torch, transformers, opacus, numpy (default bench/.venv, made by bench/python/setup.sh).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { benchPython } from '../python/python.ts';
import { median } from '../stats.ts';

const { values } = parseArgs({
  options: {
    batch: { type: 'string', default: '8' },
    seq: { type: 'string', default: '128' },
    layers: { type: 'string', default: '12' },
    steps: { type: 'string', default: '4' },
    'micro-batches': { type: 'string', default: '1' },
    threads: { type: 'string', default: '2' },
    'skip-torch': { type: 'boolean', default: false },
    profile: { type: 'boolean', default: false },
  },
});
const B = Number(values.batch);
const T = Number(values.seq);
const layers = Number(values.layers);
const steps = values.steps;
const threads = values.threads;
const python = benchPython();
const here = (f: string) => fileURLToPath(new URL(f, import.meta.url));

// Packed rows (no padding), deterministic ids with repeats, as real text has.
const ids = Array.from({ length: B }, (_, b) => Array.from({ length: T }, (_, t) => ((t * 7919 + b * 104729) % 4099) * 12 % 50257));
const dir = mkdtempSync(join(tmpdir(), 'veil-bench-train-'));
const idsPath = join(dir, 'ids.json');
writeFileSync(idsPath, JSON.stringify(ids));

const env = { ...process.env, OMP_NUM_THREADS: threads, OPENBLAS_NUM_THREADS: threads, MKL_NUM_THREADS: threads, VEIL_ORT_THREADS: threads };

function run(label: string, cmd: string, args: string[]): Record<string, unknown> {
  process.stderr.write(`… ${label}\n`);
  const r = spawnSync(cmd, args, { env, encoding: 'utf8', maxBuffer: 64 * 2 ** 20 });
  const line = r.stdout.trim().split('\n').pop() ?? '';
  if (r.status !== 0 || !line.startsWith('{')) throw new Error(`${label} failed (${r.status}):\n${r.stderr.slice(-3000)}`);
  return JSON.parse(line) as Record<string, unknown>;
}
const veil = (mode: string, extra: string[] = [values['micro-batches']]) => run(`veil ${mode}`, process.execPath, ['--import', 'tsx', here('./veil-step.ts'), mode, idsPath, steps, String(layers), ...extra]);
const torch = (mode: string) => run(mode, python, [here('./torch_step.py'), mode, '--ids', idsPath, '--steps', steps, '--threads', threads, '--n-layer', String(layers)]);

const stepOf = (r: Record<string, unknown>, key = 'step_s') => median(r[key] as number[]);

// Model FLOPs of one training step (3 × forward matmuls; causal attention counted in full).
const D = 768;
const V = 50257;
const forwardFlops = B * T * 2 * (12 * layers * D * D + V * D) + B * layers * 2 * 2 * T * T * D;
const stepFlops = 3 * forwardFlops;
const tokens = B * T;
const k = Number(values['micro-batches']); // Veil's steps process k × tokens

try {
  if (values.profile) {
    for (const mode of ['nonprivate', 'dp']) console.log(JSON.stringify(veil(mode, ['--profile']), null, 1));
  }
  const sgemmBefore = torch('sgemm');
  // numpy's sgemm right before and after the alternating run the graph's GFLOP/s come from: on a
  // machine whose host is shared, sgemm moved between 231 and 280 GFLOP/s within the hour.
  const pair = veil('pair');
  const sgemmAfter = torch('sgemm');
  const plain = veil('nonprivate');
  const dp = veil('dp');
  const opacus = torch('opacus');
  const pytorch = values['skip-torch'] ? undefined : torch('torch');

  const fmt = (x: number, d = 2) => x.toFixed(d);
  const row = (name: string, r: Record<string, unknown>, micro = 1) => {
    const s = stepOf(r);
    console.log(`${name.padEnd(22)} step ${fmt(s)} s   ${fmt((micro * tokens) / s, 0).padStart(5)} tokens/s   peak RSS ${fmt(r.peak_rss_mb as number, 0)} MB   model ${fmt((micro * stepFlops) / s / 1e9, 1)} GFLOP/s`);
    return s / micro; // seconds per micro-batch of tokens
  };
  console.log(`GPT-2-small shape: ${layers} layers, width ${D}, vocab ${V}; batch ${B} × ${T} tokens (Veil: logical batch ${k} × ${B} rows); ${threads} threads; median of ${steps} steps after a warm-up`);
  console.log(`numpy sgemm [1024,768]×[768,3072]: ${fmt(sgemmBefore.gflops as number, 1)} GFLOP/s before, ${fmt(sgemmAfter.gflops as number, 1)} after the alternating run`);
  const tPlain = row('Veil non-private', plain, k);
  const tDp = row('Veil DP (book-keeping)', dp, k);
  const tOpacus = row('Opacus DP (ghost)', opacus);
  if (pytorch) row('PyTorch non-private', pytorch);
  const split = (r: Record<string, unknown>) => `gradients ${fmt(stepOf(r, 'gradients_s'))} s, noise ${fmt(stepOf(r, 'noise_s'))} s, AdamW ${fmt(stepOf(r, 'optimizer_s'))} s`;
  const pairPlain = pair.nonprivate as Record<string, unknown>;
  const pairDp = pair.dp as Record<string, unknown>;
  console.log(`separate processes:          Veil non-private ${split(plain)}; Veil DP ${split(dp)}`);
  console.log(`alternating in one process:  Veil non-private ${split(pairPlain)}; Veil DP ${split(pairDp)}`);
  const gradRatio = stepOf(pairDp, 'gradients_s') / stepOf(pairPlain, 'gradients_s');
  const workPlain = (plain.peak_rss_mb as number) - (plain.base_rss_mb as number);
  const workDp = (dp.peak_rss_mb as number) - (dp.base_rss_mb as number);
  console.log('');
  console.log(`Veil DP ÷ non-DP step time:        ${fmt(stepOf(pairDp) / stepOf(pairPlain), 3)}  (goal ≤ 1.10; gradient graph alone ${fmt(gradRatio, 3)}; separate processes ${fmt(tDp / tPlain, 3)})`);
  console.log(`Veil DP ÷ non-DP peak memory:      ${fmt((dp.peak_rss_mb as number) / (plain.peak_rss_mb as number), 3)}  (goal ≤ 1.2; above the weights/optimizer baseline: ${fmt(workDp / workPlain, 3)})`);
  console.log(`Veil DP ÷ Opacus tokens/s:         ${fmt(tOpacus / tDp, 3)}  (goal ≥ 1.5)`);
  const graphGflops = (r: Record<string, unknown>) => fmt((k * stepFlops) / stepOf(r, 'gradients_s') / 1e9, 1);
  console.log(`Veil gradient graph, GFLOP/s:  non-DP ${graphGflops(pairPlain)}, DP ${graphGflops(pairDp)} (model FLOPs ${fmt(stepFlops / 1e9, 0)} G/step, alternating run) vs numpy sgemm ${fmt(((sgemmBefore.gflops as number) + (sgemmAfter.gflops as number)) / 2, 1)}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
