// The Veil side of bench/generate, run in its own process so its peak memory is its own.
// Usage: node --import tsx bench/generate/veil_generate.ts DIR BATCH PROMPT_TOKENS NEW_TOKENS
// Prints one JSON line like hf_generate.py. The model is loaded stage by stage from DIR with
// pre-packed weights; VEIL_PREPACK=0 feeds the weights as inputs instead (slower, for comparison).
// With one prompt an int8 draft speeds greedy decoding up (VEIL_DRAFT=0: without it); the JSON line
// then says how many of its guesses the float32 model kept.
import { generateTokens } from '../../engine/gpt2/generate.ts';
import { Gpt2Model } from '../../engine/gpt2/model.ts';
import { sessionConfigFromEnv } from '../../engine/onnx/index.ts';
import { promptIds } from './prompts.ts';

const [dir, batch, promptTokens, newTokens] = process.argv.slice(2);
const B = Number(batch);
const N = Number(newTokens);
const session = sessionConfigFromEnv();
const model = await Gpt2Model.load(dir, { session, prepack: process.env.VEIL_PREPACK !== '0' });
// One prompt is bound by reading the weights: an int8 draft guesses, the float32 model checks
// (engine/gpt2/speculative.ts), same tokens. VEIL_DRAFT=0 decodes without it.
const draft = B === 1 && process.env.VEIL_DRAFT !== '0' ? await Gpt2Model.load(dir, { session, precision: 'int8-draft' }) : undefined;
const prompts = promptIds(B, Number(promptTokens));
const options = { temperature: 0, seed: 0, stopToken: null, draft };
await generateTokens(model, prompts, { ...options, maxNewTokens: 2 }); // warm-up, as on the Python side
const cpuStart = process.cpuUsage();
const start = performance.now();
const { tokens, speculation } = await generateTokens(model, prompts, { ...options, maxNewTokens: N });
const seconds = (performance.now() - start) / 1000;
const cpu = process.cpuUsage(cpuStart);
if (tokens.some((t) => t.length !== N)) throw new Error('a row stopped early');
process.stdout.write(
  JSON.stringify({ seconds, cpu_seconds: (cpu.user + cpu.system) / 1e6, tokens_per_second: (B * N) / seconds, max_rss_mb: process.resourceUsage().maxRSS / 1024, first_row: tokens[0], speculation }) + '\n',
);
