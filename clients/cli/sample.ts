// `veil sample`: samples from a fine-tuned model, released only under the model's DP guarantee
// (its ε within what the analyst accepts). Prints the samples with the model's ε and δ, or the
// refusal. Exit codes: 0 released, 1 failed, 2 bad flags, 3 refused.
import { requireToken, tokenPrincipal } from './token.ts';
import { Command } from 'commander';
import type { SampleInput } from '../../contracts/sample.ts';
import { UsageError, epsilonFlag, numberFlag, requireFlags, usageErrorsExit2, withTemporal, workflowUrl } from './command-line.ts';
import { formatEpsilon } from './job-format.ts';
import { runSample, validateSampleInput } from '../sdk/jobs/index.ts';
import { asFlagError, checkFlags } from './finetune.ts';

interface SampleFlags {
  model?: string;
  analyst?: string;
  maxEpsilon?: string;
  prompt?: string[];
  unconditional?: string;
  temperature?: string;
  topK?: string;
  topP?: string;
  maxNewTokens?: string;
  seed?: string;
  json?: boolean;
}

const FLAG_OF: Record<string, string> = {
  analyst: '--analyst',
  modelId: '--model',
  maxEpsilon: '--max-epsilon',
  prompts: '--prompt',
  unconditional: '--unconditional',
  temperature: '--temperature',
  topK: '--top-k',
  topP: '--top-p',
  maxNewTokens: '--max-new-tokens',
  seed: '--seed',
};
for (let i = 0; i < 256; i++) FLAG_OF[`prompts.${i}`] = '--prompt';

// The sample workflow's refusals (activities/sampling/release.ts), named here to keep the CLI light.
const REFUSALS = new Set(['ReleaseRefused', 'ModelNotFound']);
export const SAMPLE_EXIT = { released: 0, failed: 1, refused: 3 } as const;

function sampleInputFromFlags(o: SampleFlags): SampleInput {
  o = { ...o, analyst: o.analyst ?? tokenPrincipal() };
  requireFlags({ ...o }, { model: '--model', analyst: '--analyst', maxEpsilon: '--max-epsilon' });
  const input: SampleInput = { modelId: o.model!, analyst: o.analyst!, maxEpsilon: epsilonFlag('--max-epsilon', o.maxEpsilon)!, prompts: o.prompt ?? [] };
  const numbers = { unconditional: '--unconditional', temperature: '--temperature', topK: '--top-k', topP: '--top-p', maxNewTokens: '--max-new-tokens' } as const;
  for (const [key, flag] of Object.entries(numbers) as [keyof typeof numbers, string][]) {
    const value = numberFlag(flag, o[key]);
    if (value !== undefined) input[key] = value;
  }
  if (o.seed !== undefined) input.seed = o.seed;
  if (input.prompts!.length === 0 && input.unconditional === undefined) throw new UsageError('--prompt or --unconditional: ask for at least one sample');
  return input;
}

export function registerSampleCommands(program: Command): void {
  usageErrorsExit2(program.command('sample'))
    .summary('generate samples from a fine-tuned model, under its DP guarantee')
    .description(
      "Generate text from a model Veil trained. Samples are released only when the model's ε is at most --max-epsilon " +
        "(and only to the analyst who trained it, or a privileged one); 'unlimited' accepts non-DP models (privileged analysts only). " +
        'Exit codes: 0 released, 1 failed, 2 bad flags, 3 refused.',
    )
    .option('--model <id>', 'the model id (a fine-tune job id) (required)')
    .option('--analyst <id>', "who asks (default: the token's principal)")
    .option('--max-epsilon <e>', "the largest model ε you accept, or 'unlimited' (required)")
    .option('--prompt <text...>', 'prompts to complete (repeatable)')
    .option('--unconditional <n>', 'this many samples without a prompt')
    .option('--temperature <t>', 'sampling temperature, 0 = greedy (default 1)')
    .option('--top-k <k>', 'keep the k most likely tokens, 0 = all (default 50)')
    .option('--top-p <p>', 'nucleus sampling mass, in (0, 1] (default 1)')
    .option('--max-new-tokens <n>', 'tokens to generate per sample (default 40)')
    .option('--seed <s>', 'sampling seed, for reproducible samples')
    .option('--json', 'print the result (or the refusal) as one JSON line')
    .action(async (opts: SampleFlags) => {
      const input = sampleInputFromFlags(opts);
      checkFlags(() => validateSampleInput(input), FLAG_OF);
      await withTemporal(async (client, taskQueue) => {
        const { job, outcome } = await runSample(client, input, { taskQueue, token: requireToken() }).catch((err: unknown) => {
          throw asFlagError(err, FLAG_OF);
        });
        if (outcome.status !== 'completed') {
          const refused = outcome.failureType !== undefined && REFUSALS.has(outcome.failureType);
          if (opts.json) console.log(JSON.stringify({ status: refused ? 'refused' : outcome.status, reason: outcome.failureType ?? null, message: outcome.message, workflowId: job.workflowId }));
          else console.error(`veil: ${refused ? 'refused' : `sampling ${outcome.status}`}: ${outcome.message}\n  ${workflowUrl(job.workflowId)}`);
          process.exitCode = refused ? SAMPLE_EXIT.refused : SAMPLE_EXIT.failed;
          return;
        }
        const r = outcome.result;
        if (opts.json) return console.log(JSON.stringify(r));
        const delta = r.delta === null ? '' : `, δ=${r.delta.toPrecision(3)}`;
        console.log(`${r.samples.length} samples from model ${r.modelId} (ε=${formatEpsilon(r.epsilon)}${delta}); stored at ${r.key}`);
        r.samples.forEach((s, i) => {
          console.log(`\n[${i + 1}] ${s.prompt ? `prompt ${JSON.stringify(s.prompt)}` : 'unconditional'}`);
          console.log(s.text);
        });
      });
    });
}
