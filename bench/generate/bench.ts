// Generation throughput: Veil (onnxruntime-node) against Hugging Face transformers (PyTorch, CPU),
// side by side in one run on this machine, on a GPT-2-small-shaped model with random weights.
// Each side runs in its own process (peak RSS is per process), greedy, KV cache, no early stop.
//
//   node --import tsx bench/generate/bench.ts [--batches 1,8] [--prompt-tokens 64] [--new-tokens 100] [--repeat 1]
//
// On a machine other work shares, --repeat N runs each side N times, alternating which goes first,
// and reports the median tokens/s of each side and the largest peak RSS each reached. Each line also
// gives the CPU time ratio (transformers' CPU seconds ÷ Veil's, all threads) and the load average:
// on a loaded machine wall-clock ratios move with the load, CPU time much less.
//
// VEIL_PYTHON names a Python with torch and transformers (default bench/.venv, made by bench/python/setup.sh).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { saveCheckpoint } from '../../engine/gpt2/checkpoint.ts';
import { presetConfig } from '../../engine/gpt2/config.ts';
import { randomWeights } from '../../engine/gpt2/weights.ts';
import { benchPython } from '../python/python.ts';
import { median } from '../stats.ts';

interface SideResult {
  seconds: number;
  /** CPU time of the whole process (all threads) during the timed generation. */
  cpu_seconds: number;
  tokens_per_second: number;
  max_rss_mb: number;
  first_row: number[];
  /** Veil with one prompt: float32 passes, guesses of the int8 draft, and guesses kept. */
  speculation?: { checks: number; proposed: number; accepted: number };
}

const { values } = parseArgs({
  options: {
    batches: { type: 'string', default: '1,8' },
    'prompt-tokens': { type: 'string', default: '64' },
    'new-tokens': { type: 'string', default: '100' },
    threads: { type: 'string', default: '2' },
    repeat: { type: 'string', default: '1' },
  },
});
const here = fileURLToPath(new URL('.', import.meta.url));
const python = benchPython();
const promptTokens = values['prompt-tokens'];
const newTokens = values['new-tokens'];

function runSide(command: string, args: string[], env: NodeJS.ProcessEnv): SideResult {
  const r = spawnSync(command, args, { encoding: 'utf8', env, maxBuffer: 1 << 24 });
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${r.status}):\n${r.stderr}`);
  const line = r.stdout.trim().split('\n').pop() ?? '';
  return JSON.parse(line) as SideResult;
}

/** Median speed and time, largest peak memory. */
function summarize(runs: SideResult[]): SideResult {
  return {
    seconds: median(runs.map((r) => r.seconds)),
    cpu_seconds: median(runs.map((r) => r.cpu_seconds)),
    tokens_per_second: median(runs.map((r) => r.tokens_per_second)),
    max_rss_mb: Math.max(...runs.map((r) => r.max_rss_mb)),
    first_row: runs[0].first_row,
    speculation: runs[0].speculation,
  };
}

/** The 1-minute load average: on a shared machine it says how far the numbers next to it can be trusted. */
const load = () => loadavg()[0].toFixed(1);

const dir = mkdtempSync(join(tmpdir(), 'veil-bench-gpt2-'));
try {
  const config = presetConfig('gpt2');
  process.stdout.write(`writing a random GPT-2-small checkpoint (${config.nLayer} layers, width ${config.nEmbd}) to ${dir}\n`);
  await saveCheckpoint(dir, { config, weights: randomWeights(config, 'bench') }, { tokenizer: false });
  const env = { ...process.env, VEIL_ORT_THREADS: values.threads };
  const rows: string[] = [];
  const repeat = Number(values.repeat);
  for (const batch of values.batches.split(',').map(Number)) {
    const runVeil = () => runSide(process.execPath, ['--import', 'tsx', join(here, 'veil_generate.ts'), dir, String(batch), promptTokens, newTokens], env);
    const runHf = () => runSide(python, [join(here, 'hf_generate.py'), '--model', dir, '--batch', String(batch), '--prompt-tokens', promptTokens, '--new-tokens', newTokens, '--threads', values.threads], env);
    const veilRuns: SideResult[] = [];
    const hfRuns: SideResult[] = [];
    for (let r = 0; r < repeat; r++) {
      // Alternate which side goes first, so a change in the machine's load favours neither.
      if (r % 2 === 0) {
        veilRuns.push(runVeil());
        hfRuns.push(runHf());
      } else {
        hfRuns.push(runHf());
        veilRuns.push(runVeil());
      }
      if (repeat > 1) {
        const [v, h] = [veilRuns[r], hfRuns[r]];
        process.stdout.write(
          `  try ${r + 1} of ${repeat}, ${batch} rows: veil ${v.tokens_per_second.toFixed(1)} tok/s (CPU ${v.cpu_seconds.toFixed(1)} s), ${v.max_rss_mb.toFixed(0)} MB; ` +
            `transformers ${h.tokens_per_second.toFixed(1)} tok/s (CPU ${h.cpu_seconds.toFixed(1)} s), ${h.max_rss_mb.toFixed(0)} MB; load average ${load()}\n`,
        );
      }
    }
    const veil = summarize(veilRuns);
    const hf = summarize(hfRuns);
    const same = [...veilRuns, ...hfRuns].every((run) => run.first_row.every((t, i) => t === hfRuns[0].first_row[i]));
    rows.push(
      `batch ${batch}: veil ${veil.tokens_per_second.toFixed(1)} tok/s (${veil.seconds.toFixed(1)} s, peak RSS ${veil.max_rss_mb.toFixed(0)} MB) | ` +
        `transformers ${hf.tokens_per_second.toFixed(1)} tok/s (${hf.seconds.toFixed(1)} s, peak RSS ${hf.max_rss_mb.toFixed(0)} MB) | ` +
        `ratio ${(veil.tokens_per_second / hf.tokens_per_second).toFixed(2)}x | same greedy tokens: ${same ? 'yes' : 'no'} | ` +
        `CPU time ratio ${(hf.cpu_seconds / veil.cpu_seconds).toFixed(2)}x | load average ${load()}` +
        (veil.speculation ? ` | int8 draft: ${veil.speculation.accepted} of ${veil.speculation.proposed} guesses kept, ${veil.speculation.checks} float32 passes` : ''),
    );
    // The full row is printed once, at the end: bench/summary.ts reads each batch's row from the output.
    process.stdout.write(`batch ${batch} done (load average ${load()})\n`);
  }
  const how = repeat > 1 ? `, median of ${repeat} alternating runs (largest peak RSS)` : '';
  process.stdout.write(`\nGPT-2 small, ${promptTokens}-token prompts, ${newTokens} new tokens, ${values.threads} threads each, greedy${how}:\n${rows.join('\n')}\n`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
