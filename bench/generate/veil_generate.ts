// The Veil side of bench/generate, run in its own process so its peak memory is its own.
// Usage: node --import tsx bench/generate/veil_generate.ts DIR BATCH PROMPT_TOKENS NEW_TOKENS
// Prints one JSON line like hf_generate.py. The model is loaded stage by stage from DIR with
// pre-packed weights; VEIL_PREPACK=0 feeds the weights as inputs instead (slower, for comparison).
import { generateTokens } from '../../engine/gpt2/generate.ts';
import { Gpt2Model } from '../../engine/gpt2/model.ts';
import { sessionConfigFromEnv } from '../../engine/onnx/index.ts';
import { promptIds } from './prompts.ts';

const [dir, batch, promptTokens, newTokens] = process.argv.slice(2);
const B = Number(batch);
const N = Number(newTokens);
const model = await Gpt2Model.load(dir, { session: sessionConfigFromEnv(), prepack: process.env.VEIL_PREPACK !== '0' });
const prompts = promptIds(B, Number(promptTokens));
const options = { temperature: 0, seed: 0, stopToken: null };
await generateTokens(model, prompts, { ...options, maxNewTokens: 2 }); // warm-up, as on the Python side
const cpuStart = process.cpuUsage();
const start = performance.now();
const { tokens } = await generateTokens(model, prompts, { ...options, maxNewTokens: N });
const seconds = (performance.now() - start) / 1000;
const cpu = process.cpuUsage(cpuStart);
if (tokens.some((t) => t.length !== N)) throw new Error('a row stopped early');
process.stdout.write(
  JSON.stringify({ seconds, cpu_seconds: (cpu.user + cpu.system) / 1e6, tokens_per_second: (B * N) / seconds, max_rss_mb: process.resourceUsage().maxRSS / 1024, first_row: tokens[0] }) + '\n',
);
