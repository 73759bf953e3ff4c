// DP-LoRA step cost on a GPT-2-small-shaped model (random frozen base), one batch of packed rows,
// measured side by side in one run on this machine, each side in its own process:
//   Veil DP-LoRA      adapters' clipped gradients by book-keeping (one session.run, no gradient
//                     formed for the frozen base) + noise + AdamW on the adapters
//   Opacus + PEFT     PEFT LoRA adapters, Opacus per-example clipping (ghost by default, --opacus-mode
//                     hooks for per-sample gradients) + noise + AdamW, PyTorch CPU
// Same rank, alpha (2r), targets, batch and threads. The two sides alternate for --rounds rounds
// (Veil, Opacus, Veil, Opacus, …) so that both see the same load on a shared machine; each side's
// step time is its fastest step over the rounds. Prints step times, tokens/s, the ratio Veil ÷
// Opacus tokens/s and peak RSS.
//
//   node --import tsx bench/train/dp-lora-step.ts [--batch 8] [--seq 128] [--layers 12] [--rank 8]
//        [--targets attn.c_attn,attn.c_proj] [--steps 2] [--rounds 2] [--threads 2] [--opacus-mode ghost|hooks]
// VEIL_PYTHON names a Python with torch, transformers, opacus and peft (default bench/.venv).
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
    rank: { type: 'string', default: '8' },
    targets: { type: 'string', default: 'attn.c_attn,attn.c_proj' },
    steps: { type: 'string', default: '2' },
    rounds: { type: 'string', default: '2' },
    threads: { type: 'string', default: '2' },
    'opacus-mode': { type: 'string', default: 'ghost' },
  },
});
const B = Number(values.batch);
const T = Number(values.seq);
const threads = values.threads;
const here = (f: string) => fileURLToPath(new URL(f, import.meta.url));

// Packed rows (no padding), deterministic ids with repeats, as bench/train/dp-step.ts uses.
const ids = Array.from({ length: B }, (_, b) => Array.from({ length: T }, (_, t) => ((t * 7919 + b * 104729) % 4099) * 12 % 50257));
const dir = mkdtempSync(join(tmpdir(), 'veil-bench-lora-'));
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
const stepOf = (r: Record<string, unknown>) => Math.min(...(r.step_s as number[]));

/** One side's runs merged: every step time, the largest peak RSS. */
function merged(runs: Record<string, unknown>[]): Record<string, unknown> {
  const all = (key: string) => runs.flatMap((r) => (r[key] as number[] | undefined) ?? []);
  return { ...runs[0], step_s: all('step_s'), gradients_s: all('gradients_s'), noise_s: all('noise_s'), optimizer_s: all('optimizer_s'), peak_rss_mb: Math.max(...runs.map((r) => Number(r.peak_rss_mb))) };
}

try {
  const veilRuns: Record<string, unknown>[] = [];
  const opacusRuns: Record<string, unknown>[] = [];
  for (let round = 1; round <= Number(values.rounds); round++) {
    veilRuns.push(run(`veil dp-lora (round ${round})`, process.execPath, ['--import', 'tsx', here('./lora-veil-step.ts'), idsPath, values.steps, values.layers, values.rank, values.targets]));
    opacusRuns.push(run(`opacus+peft ${values['opacus-mode']} (round ${round})`, benchPython(), [
      here('./lora_torch_step.py'), '--ids', idsPath, '--steps', values.steps, '--threads', threads, '--n-layer', values.layers,
      '--rank', values.rank, '--targets', values.targets, '--mode', values['opacus-mode'],
    ]));
  }
  const veil = merged(veilRuns);
  const opacus = merged(opacusRuns);
  const tokens = B * T;
  const row = (name: string, r: Record<string, unknown>) =>
    `  ${name.padEnd(28)} ${stepOf(r).toFixed(2).padStart(7)} s   ${(tokens / stepOf(r)).toFixed(0).padStart(6)} tok/s   peak RSS ${Number(r.peak_rss_mb).toFixed(0).padStart(6)} MB   trainable ${r.trainable_params}`;
  console.log(`DP-LoRA step, GPT-2 small shape (${values.layers} layers), batch ${B} × ${T} tokens, rank ${values.rank}, targets ${values.targets}, ${threads} threads (fastest of ${values.rounds} × ${values.steps} steps, sides alternating)`);
  console.log(`  every step (s): Veil ${(veil.step_s as number[]).map((x) => x.toFixed(1)).join(' ')}; Opacus ${(opacus.step_s as number[]).map((x) => x.toFixed(1)).join(' ')}`);
  console.log(row('Veil DP-LoRA', veil));
  console.log(`    medians over every step: gradients ${median(veil.gradients_s as number[]).toFixed(2)} s, noise ${median(veil.noise_s as number[]).toFixed(3)} s, AdamW ${median(veil.optimizer_s as number[]).toFixed(3)} s`);
  console.log(row(`Opacus ${values['opacus-mode']} + PEFT LoRA`, opacus));
  console.log(`  Veil ÷ Opacus tokens/s: ${(stepOf(opacus) / stepOf(veil)).toFixed(2)}×   peak RSS ratio ${(Number(veil.peak_rss_mb) / Number(opacus.peak_rss_mb)).toFixed(2)}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
