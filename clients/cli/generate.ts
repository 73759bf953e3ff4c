// `veil generate`: sample text from a GPT-2 checkpoint in Hugging Face layout.
import { Command, InvalidArgumentError } from 'commander';
import { randomInt } from 'node:crypto';
import { generateText } from '../../engine/gpt2/generate-text.ts';
import { Gpt2Model } from '../../engine/gpt2/model.ts';
import { sessionConfigFromEnv } from '../../engine/onnx/index.ts';

interface GenerateFlags {
  model: string;
  prompt: string[];
  temperature: number;
  topK: number;
  topP: number;
  maxNewTokens: number;
  seed?: string;
  json?: boolean;
  draft?: boolean;
}

const number = (what: string, check: (n: number) => boolean) => (raw: string) => {
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n) || !check(n)) throw new InvalidArgumentError(`${what} expected, got '${raw}'`);
  return n;
};

export function registerGenerateCommands(program: Command): void {
  program
    .command('generate')
    .description('Generate text with a GPT-2 model (a Hugging Face folder, or a hub id found in the local HF cache)')
    .requiredOption('--model <dir>', 'model folder with config.json and model.safetensors, a hub id in the local HF cache (gpt2), or random:<size>[@seed]')
    .option('--prompt <text>', 'a prompt (repeat for a batch; an empty prompt starts from <|endoftext|>)', (v: string, all: string[]) => [...all, v], [])
    .option('--temperature <t>', 'sampling temperature, 0 = greedy', number('a number ≥ 0', (n) => n >= 0), 1)
    .option('--top-k <k>', 'keep the k most likely tokens, 0 = off', number('an integer ≥ 0', (n) => Number.isInteger(n) && n >= 0), 50)
    .option('--top-p <p>', 'nucleus sampling mass, 1 = off', number('a number in (0, 1]', (n) => n > 0 && n <= 1), 1)
    .option('--max-new-tokens <n>', 'tokens to generate per prompt at most', number('an integer ≥ 0', (n) => Number.isInteger(n) && n >= 0), 50)
    .option('--seed <s>', 'seed of the sampler (default: random, printed so the run can be repeated)')
    .option('--json', 'print {"samples":[{"prompt","text"}],"seed"} as JSON')
    .option('--draft', 'greedy, one prompt: an int8 copy of the model guesses tokens ahead and the model checks them (the same text; faster for long continuations, ~2 s and ~130 MB more for GPT-2 small)')
    .action(async (flags: GenerateFlags) => {
      const prompts = flags.prompt.length > 0 ? flags.prompt : [''];
      // Speculation is exact only for greedy decoding, and one prompt at a time.
      if (flags.draft && (flags.temperature !== 0 || prompts.length !== 1)) program.error('error: --draft needs --temperature 0 and exactly one prompt');
      const seed = flags.seed ?? String(randomInt(2 ** 47));
      // Weights mapped by onnxruntime from the checkpoint's files: never a second copy in JS.
      const model = await Gpt2Model.load(flags.model, { session: sessionConfigFromEnv() });
      const draft = flags.draft ? await Gpt2Model.load(flags.model, { session: sessionConfigFromEnv(), precision: 'int8-draft' }) : undefined;
      try {
        const samples = await generateText(model, prompts, {
          temperature: flags.temperature,
          topK: flags.topK,
          topP: flags.topP,
          maxNewTokens: flags.maxNewTokens,
          seed,
          draft,
        });
        if (flags.json) {
          process.stdout.write(JSON.stringify({ samples: samples.map(({ prompt, text }) => ({ prompt, text })), seed }) + '\n');
          return;
        }
        samples.forEach((s, i) => process.stdout.write(`${i > 0 ? '\n' : ''}${s.text}\n`));
        process.stderr.write(`(seed ${seed})\n`);
      } finally {
        await model.release();
        await draft?.release();
      }
    });
}
