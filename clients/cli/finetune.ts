// `veil finetune`: start a DP fine-tune from flags and follow it live. The flags become the
// fineTune workflow's input, checked first with the workflow's own schema so a mistake exits with
// code 2 naming the flag. The progress bar reads the train activity's heartbeat from Temporal
// (step/total, loss, ε so far, ETA). Exit codes: 0 completed, 1 failed, 2 bad flags,
// 3 budget exhausted, 4 cancelled. The flags are shared with `veil schedule create`.
import { Command } from 'commander';
import type { FineTuneInput } from '../../contracts/fine-tune.ts';
import { JobInputError, startFineTune, validateFineTuneInput } from '../sdk/jobs/index.ts';
import { requireToken, tokenPrincipal } from './token.ts';
import { UsageError, epsilonFlag, numberFlag, requireFlags, usageErrorsExit2, withTemporal, workflowUrl } from './command-line.ts';
import { followFineTune, reportFineTune } from './progress-view.ts';
import { collect, preprocessingFromFlags } from './preprocessing-flags.ts';

export interface FineTuneFlags {
  dataset?: string;
  analyst?: string;
  textColumn?: string;
  model?: string;
  seed?: string;
  maxSeqLen?: string;
  loraRank?: string;
  loraAlpha?: string;
  loraTargets?: string;
  loraAdapterOnly?: boolean;
  targetEpsilon?: string;
  delta?: string;
  batchSize?: string;
  epochs?: string;
  maxGradNorm?: string;
  lr?: string;
  testFraction?: string;
  testFrom?: string;
  checkpointEvery?: string;
  trainHeartbeatTimeout?: string;
  jobId?: string;
  rename?: string[];
  map?: string[];
}

/** The flag behind each input field, to name it in errors. */
const FLAG_OF: Record<string, string> = {
  jobId: '--job-id',
  analyst: '--analyst',
  dataset: '--dataset',
  'dataset.name': '--dataset',
  'dataset.version': '--dataset',
  textColumn: '--text-column',
  'model.base': '--model',
  'model.seed': '--seed',
  'model.maxSeqLen': '--max-seq-len',
  'model.lora.rank': '--lora-rank',
  'model.lora.alpha': '--lora-alpha',
  'model.lora.targets': '--lora-targets',
  'training.targetEpsilon': '--target-epsilon',
  'training.delta': '--delta',
  'training.batchSize': '--batch-size',
  'training.epochs': '--epochs',
  'training.maxGradNorm': '--max-grad-norm',
  'training.lr': '--lr',
  'training.checkpointEvery': '--checkpoint-every',
  'split.testFraction': '--test-fraction',
  'split.testFrom': '--test-from',
  trainHeartbeatTimeoutSeconds: '--train-heartbeat-timeout',
};

/** JobInputError → UsageError whose lines start with the flag at fault. */
export function asFlagError(err: unknown, extra: Record<string, string> = {}): unknown {
  if (!(err instanceof JobInputError)) return err;
  const lines = err.issues.map((i) => `${extra[i.path] ?? FLAG_OF[i.path] ?? i.path}: ${i.message}`);
  return new UsageError(lines.length === 1 ? lines[0] : `invalid flags:\n  ${lines.join('\n  ')}`);
}

/** Runs a client-side check, turning its JobInputError into a usage error naming the flags. */
export function checkFlags(check: () => unknown, extra?: Record<string, string>): void {
  try {
    check();
  } catch (err) {
    throw asFlagError(err, extra);
  }
}

export function addFineTuneFlags(command: Command, options: { jobId: boolean }): Command {
  command
    .option('--dataset <name[@version]>', 'dataset to train on, latest version unless @VERSION (required)')
    .option('--analyst <id>', "the analyst whose privacy budget pays (default: the token's principal)")
    .option('--text-column <col>', 'the text column the model learns from (required)')
    .option('--rename <from=to>', 'rename a column before training (repeatable; renames run before maps)', collect)
    .option('--map <column=file.js>', 'replace COLUMN by fn(value), fn the one function in FILE.js, traced like trace() and run in the sandbox on every row (repeatable, in order)', collect)
    .option('--model <base>', 'starting model: gpt2, gpt2-medium, gpt2-large, gpt2-xl (pretrained, from the local Hugging Face cache), random:<size> for random weights (tiny, micro: random-only sizes), or models/<id> (required)')
    .option('--seed <s>', 'seed of the starting weights when they are initialised (default veil)')
    .option('--max-seq-len <n>', 'tokens per row, end-of-text included (default 64)')
    .option('--lora-rank <r>', 'DP-LoRA: train rank-r adapters on a frozen base instead of every weight (clipping and noise cover the adapters only)')
    .option('--lora-alpha <a>', 'DP-LoRA: adapter scale alpha/r (default alpha = 2r)')
    .option('--lora-targets <list>', 'DP-LoRA: comma-separated projections among attn.c_attn, attn.c_proj, mlp.c_fc, mlp.c_proj (default attn.c_attn,attn.c_proj)')
    .option('--lora-adapter-only', 'DP-LoRA: register the PEFT adapter alone, without the merged full weights')
    .option('--target-epsilon <e>', "ε to stay within, or 'unlimited' (no DP, privileged analysts only) (required)")
    .option('--delta <d>', 'δ (default 1/N^1.1 of the training rows)')
    .option('--batch-size <b>', 'expected logical batch size (Poisson sampling) (required)')
    .option('--epochs <x>', 'passes over the training rows, fractions allowed (required)')
    .option('--max-grad-norm <c>', 'per-example clipping norm (default 1)')
    .option('--lr <lr>', 'learning rate (default 5e-4)')
    .option('--test-fraction <f>', 'hold out this fraction of rows for evaluation, shuffled (default 0.1)')
    .option('--test-from <n>', 'hold out rows N.. (dataset order) instead of a fraction')
    .option('--checkpoint-every <k>', 'steps between S3 checkpoints (default 20)')
    .option(
      '--train-heartbeat-timeout <s>',
      'seconds the training may go without a heartbeat before its worker counts as lost and the job resumes from its last checkpoint on another (default 30; 5 to 600: raise it for large models on a busy machine)',
    );
  if (options.jobId) command.option('--job-id <id>', 'job id: the model id and privacy-charge key (default: a random id)');
  return command;
}

function datasetFlag(raw: string): FineTuneInput['dataset'] {
  const at = raw.lastIndexOf('@');
  if (at < 0) return { name: raw };
  const version = Number(raw.slice(at + 1));
  if (!Number.isInteger(version) || version < 1) throw new UsageError(`--dataset: "${raw}": the version after @ must be a positive integer`);
  return { name: raw.slice(0, at), version };
}

/** The `model.lora` the --lora-* flags describe; the other flags need --lora-rank. */
function loraFromFlags(o: FineTuneFlags): NonNullable<FineTuneInput['model']['lora']> | undefined {
  if (o.loraRank === undefined) {
    if (o.loraAlpha !== undefined || o.loraTargets !== undefined || o.loraAdapterOnly) throw new UsageError('--lora-alpha, --lora-targets and --lora-adapter-only need --lora-rank');
    return undefined;
  }
  const targets = o.loraTargets?.split(',').map((t) => t.trim()).filter((t) => t.length > 0);
  return {
    rank: numberFlag('--lora-rank', o.loraRank)!,
    ...(o.loraAlpha !== undefined ? { alpha: numberFlag('--lora-alpha', o.loraAlpha) } : {}),
    ...(targets ? { targets: targets as NonNullable<FineTuneInput['model']['lora']>['targets'] } : {}),
    ...(o.loraAdapterOnly ? { merge: false } : {}),
  };
}

/** The fineTune input the flags describe (only syntax is checked here; the schema checks the rest). */
export function fineTuneInputFromFlags(o: FineTuneFlags): FineTuneInput {
  o = { ...o, analyst: o.analyst ?? tokenPrincipal() };
  requireFlags({ ...o }, { dataset: '--dataset', analyst: '--analyst', textColumn: '--text-column', model: '--model', targetEpsilon: '--target-epsilon', batchSize: '--batch-size', epochs: '--epochs' });
  if (o.testFraction !== undefined && o.testFrom !== undefined) throw new UsageError('--test-fraction and --test-from: give one of them, not both');
  const testFrom = numberFlag('--test-from', o.testFrom);
  const testFraction = numberFlag('--test-fraction', o.testFraction);
  const trainHeartbeatTimeoutSeconds = numberFlag('--train-heartbeat-timeout', o.trainHeartbeatTimeout);
  const defined = <T extends object>(x: T): T => Object.fromEntries(Object.entries(x).filter(([, v]) => v !== undefined)) as T;
  return {
    ...(o.jobId !== undefined ? { jobId: o.jobId } : {}),
    analyst: o.analyst!,
    dataset: datasetFlag(o.dataset!),
    textColumn: o.textColumn!,
    ...(o.rename?.length || o.map?.length ? { preprocessing: preprocessingFromFlags(o.rename, o.map) } : {}),
    ...(testFrom !== undefined ? { split: { kind: 'index', testFrom } } : testFraction !== undefined ? { split: { kind: 'ratio', testFraction } } : {}),
    model: defined({ base: o.model!, seed: o.seed, maxSeqLen: numberFlag('--max-seq-len', o.maxSeqLen), lora: loraFromFlags(o) }),
    training: defined({
      targetEpsilon: epsilonFlag('--target-epsilon', o.targetEpsilon)!,
      delta: numberFlag('--delta', o.delta),
      batchSize: numberFlag('--batch-size', o.batchSize)!,
      epochs: numberFlag('--epochs', o.epochs)!,
      maxGradNorm: numberFlag('--max-grad-norm', o.maxGradNorm),
      lr: numberFlag('--lr', o.lr),
      checkpointEvery: numberFlag('--checkpoint-every', o.checkpointEvery),
    }),
    ...(trainHeartbeatTimeoutSeconds !== undefined ? { trainHeartbeatTimeoutSeconds } : {}),
  };
}

export function registerFinetuneCommands(program: Command): void {
  const command = usageErrorsExit2(
    program
      .command('finetune')
      .summary('start a differentially-private fine-tune and follow its progress')
      .description(
        'Start a DP fine-tune (the fineTune workflow, id finetune-<job id>) on the GPU workers and follow it: ' +
          'a progress bar with step, loss, ε so far and ETA, then the DP evaluation and the model id. ' +
          'Exit codes: 0 completed, 1 failed, 2 bad flags, 3 budget exhausted, 4 cancelled.',
      ),
  );
  addFineTuneFlags(command, { jobId: true })
    .option('--detach', 'print the job id and return once started')
    .option('--json', 'no progress bar; print the final result as one JSON line')
    .action(async (opts: FineTuneFlags & { detach?: boolean; json?: boolean }) => {
      const input = fineTuneInputFromFlags(opts);
      checkFlags(() => validateFineTuneInput({ ...input, jobId: input.jobId ?? 'not-yet-chosen' }));
      await withTemporal(async (client, taskQueue) => {
        const job = await startFineTune(client, input, { taskQueue, token: requireToken() }).catch((err: unknown) => {
          throw asFlagError(err);
        });
        const url = workflowUrl(job.workflowId);
        if (opts.json && opts.detach) return console.log(JSON.stringify({ ...job, url }));
        // With --json, stdout carries only the result line.
        const say = opts.json ? (text: string) => process.stderr.write(`${text}\n`) : (text: string) => console.log(text);
        say(`started fine-tune ${job.jobId} (workflow ${job.workflowId})\n  ${url}`);
        if (opts.detach) return;
        process.exitCode = reportFineTune(await followFineTune(client, taskQueue, job, Boolean(opts.json)), Boolean(opts.json));
      });
    });
}
