// The notebook-style API: datasets as lazy references, transformations recorded (not run), a
// model that is fitted on the remote rows when `client.eval` asks for it with a target ε.
//
//   const client = await VeilClient.connect();
//   const notes = client.dataset('patient-notes');
//   await notes.preview();                                  // synthetic rows only
//   const X = notes.rename({ note: 'text' }).map('text', trace((s: string) => s.toLowerCase())).split({ testFraction: 0.1 });
//   const model = GPT2.create('random:tiny').fit(X, { batchSize: 64, epochs: 2 });
//   const fitted = await client.eval(model, { targetEpsilon: 8 });  // "Differentially-private evaluation (epsilon=…)"
//   await fitted.sample({ prompts: ['The patient'], maxNewTokens: 20 });
import { dryRun, type DryRunReport, type TracedFunction } from '../../engine/sandbox/index.ts';
import { markSynthetic, SYNTHETIC_NOTICE } from '../../engine/synthetic/index.ts';
import { describeDataset, syntheticPreview, type CatalogConnection } from './catalog.ts';
import { RANDOM_INIT_PREFIX, RANDOM_ONLY_SIZES, type FineTuneInput, type FineTuneResult, type PreprocessingStep, type SplitSpec } from '../../contracts/fine-tune.ts';
import { MODEL_REFERENCE_PREFIX } from '../../contracts/ids.ts';
import type { SampleInput, SampleResult } from '../../contracts/sample.ts';

export interface SyntheticPreview {
  notice: typeof SYNTHETIC_NOTICE;
  rows: Record<string, unknown>[];
  /** Dry runs of the recorded traced functions on those synthetic rows. */
  dryRuns: DryRunReport[];
}

/**
 * How to split the rows into train and test:
 * - `{ testFrom: k }`: by position, as the notebook does: rows 0..k-1 train, rows k.. test
 *   (`split({ testFrom: 2608 })` of 2,898 rows gives 2,608 / 290);
 * - `{ testFraction: f, shuffleSeed? }`: a seeded shuffle, then the last fraction f tests.
 * Without split() a fit uses `{ testFraction: 0.1 }`.
 */
export type SplitRequest = { testFraction: number; shuffleSeed?: string } | { testFrom: number };

/** A dataset version plus recorded preprocessing and split; nothing runs until a fit is evaluated. */
export class DatasetRef {
  constructor(
    private readonly catalog: CatalogConnection,
    readonly name: string,
    readonly version?: number,
    readonly steps: readonly PreprocessingStep[] = [],
    readonly splitSpec?: SplitSpec,
  ) {}

  /** Name, version, row count and schema: what an analyst may know of the real data. */
  describe() {
    return describeDataset(this.catalog, this.name, this.version);
  }

  /** Synthetic rows from the DP twin, with the recorded steps applied to them in the sandbox. */
  async preview(n = 10): Promise<SyntheticPreview> {
    const twin = await syntheticPreview(this.catalog, this.name, this.version);
    let rows = twin.rows.slice(0, n);
    const dryRuns: DryRunReport[] = [];
    for (const step of this.steps) {
      if (step.kind === 'rename') {
        rows = rows.map(({ [step.from]: v, ...rest }) => ({ ...rest, [step.to]: v }));
        continue;
      }
      dryRuns.push(await dryRun(step.fn, markSynthetic(rows), { column: step.column, maxExamples: n }));
      // Row by row for the mapped rows themselves (a failing row drops out, as in the real run).
      const mapped: Record<string, unknown>[] = [];
      for (const row of rows) {
        const one = await dryRun(step.fn, markSynthetic([row]), { column: step.column, maxExamples: 1 });
        if (one.examples.length === 1) mapped.push({ ...row, [step.column]: one.examples[0].output });
      }
      rows = mapped;
    }
    return { notice: SYNTHETIC_NOTICE, rows, dryRuns };
  }

  rename(mapping: Record<string, string>): DatasetRef {
    const steps = Object.entries(mapping).map(([from, to]): PreprocessingStep => ({ kind: 'rename', from, to }));
    return new DatasetRef(this.catalog, this.name, this.version, [...this.steps, ...steps], this.splitSpec);
  }

  /** Replaces `column` by fn(value) on every row, in the sandbox (fn from `trace`). */
  map(column: string, fn: TracedFunction): DatasetRef {
    return new DatasetRef(this.catalog, this.name, this.version, [...this.steps, { kind: 'map', column, fn }], this.splitSpec);
  }

  split(request: SplitRequest): DatasetRef {
    const spec: SplitSpec = 'testFrom' in request ? { kind: 'index', testFrom: request.testFrom } : { kind: 'ratio', testFraction: request.testFraction, shuffleSeed: request.shuffleSeed ?? 'veil' };
    return new DatasetRef(this.catalog, this.name, this.version, this.steps, spec);
  }
}

/** How to fit (contracts/fine-tune.ts `trainingSchema` holds the limits and defaults). */
export interface FitOptions {
  /** Expected rows per step: DP-SGD samples each row with probability batchSize / N (Poisson). */
  batchSize: number;
  /** Passes over the training rows (fractions allowed: 0.5 is half the steps of one pass). */
  epochs: number;
  /** The text column (default: `text`, else the dataset's only string column after preprocessing). */
  textColumn?: string;
  /** AdamW learning rate (default 5e-4). */
  lr?: number;
  /** Per-row gradient clipping norm C of DP-SGD (default 1). */
  maxGradNorm?: number;
  /** Rows per forward/backward pass; memory, not privacy (default 16). */
  physicalBatchSize?: number;
  /** Steps of linear learning-rate warm-up (default 0). */
  warmupSteps?: number;
  /** The privacy accountant: 'prv' (default, tighter) or 'rdp'. */
  accountant?: 'prv' | 'rdp';
  /** Steps between checkpoints a resumed job restarts from (default 20). */
  checkpointEvery?: number;
  /**
   * DP-LoRA: train rank-`rank` adapters on the chosen projections (default attn.c_attn and
   * attn.c_proj; scale alpha/rank, alpha default 2·rank) with the base frozen; clipping and noise
   * cover the adapters only. The model is registered as a PEFT adapter (`merge`: full weights too).
   */
  lora?: NonNullable<FineTuneInput['model']['lora']>;
}

/** A GPT-2 to fine-tune: a size or a registered model, and (after fit) what to train it on. */
export class GPT2 {
  private constructor(
    readonly base: string,
    readonly options: { seed?: string; maxSeqLen?: number },
    readonly data?: DatasetRef,
    readonly fitOptions?: FitOptions,
  ) {}

  /**
   * The model to fine-tune:
   * - `gpt2`, `gpt2-medium`, `gpt2-large`, `gpt2-xl`: OpenAI's pretrained weights, read from the
   *   training workers' local Hugging Face cache; the job is refused when they are not there;
   * - `random:<size>` (`random:tiny`, `random:gpt2-xl`, …): that architecture from random weights
   *   drawn from `seed`; `tiny` and `micro` alone are random-only test sizes (2 layers, width 64 /
   *   width 32);
   * - `models/<id>`: a model you fitted before.
   * `maxSeqLen` (default 64) cuts each row to that many tokens, the two <|endoftext|> included.
   */
  static create(base = 'gpt2', options: { seed?: string; maxSeqLen?: number } = {}): GPT2 {
    return new GPT2(base, options);
  }

  /** Records what to fit on; `client.eval(model, {targetEpsilon})` runs it. */
  fit(data: DatasetRef, options: FitOptions): GPT2 {
    return new GPT2(this.base, this.options, data, options);
  }
}

export interface EvalOptions {
  analyst: string;
  /** The ε to spend, evaluation included; 'unlimited' trains without DP (privileged analysts only). */
  targetEpsilon: number | 'unlimited';
  /** δ of this job (default 1/N^1.1 of the training rows); it is charged to your δ budget. */
  delta?: number;
  /**
   * Called with each progress line, the CLI's: phases, "queued" while the job waits for a free
   * training slot, then training step, ε and ETA (at most every 10 s). Default: written to
   * stderr; `false` prints nothing.
   */
  onProgress?: ((line: string) => void) | false;
}

/** Where a model's weights started, in words: pretrained, random (only when asked) or a model of yours. */
export function describeBaseModel(base: string): string {
  if (base.startsWith(MODEL_REFERENCE_PREFIX)) return `fine-tuned further from your model ${base}`;
  if (base.startsWith(RANDOM_INIT_PREFIX) || RANDOM_ONLY_SIZES.includes(base)) {
    const size = base.startsWith(RANDOM_INIT_PREFIX) ? base.slice(RANDOM_INIT_PREFIX.length) : base;
    return `trained from random weights (${RANDOM_INIT_PREFIX}${size}: no pretrained knowledge)`;
  }
  return `fine-tuned from the pretrained ${base} weights`;
}

/** The fine-tune input a fitted GPT2 stands for. */
export async function fineTuneInputOf(model: GPT2, options: EvalOptions): Promise<FineTuneInput> {
  if (!model.data || !model.fitOptions) throw new Error('call model.fit(dataset, {batchSize, epochs}) before client.eval(model, …)');
  const { data, fitOptions } = model;
  let textColumn = fitOptions.textColumn;
  if (!textColumn) {
    const { schema } = await data.describe();
    let columns = schema.columns.map((c) => ({ name: c.name, type: c.type }));
    for (const s of data.steps) if (s.kind === 'rename') columns = columns.map((c) => (c.name === s.from ? { ...c, name: s.to } : c));
    const strings = columns.filter((c) => c.type === 'string').map((c) => c.name);
    textColumn = columns.some((c) => c.name === 'text') ? 'text' : strings.length === 1 ? strings[0] : undefined;
    if (!textColumn) throw new Error(`say which column to learn from: fit(X, {textColumn}) (string columns: ${strings.join(', ') || 'none'})`);
  }
  return {
    analyst: options.analyst,
    dataset: { name: data.name, version: data.version },
    preprocessing: [...data.steps],
    textColumn,
    ...(data.splitSpec ? { split: data.splitSpec } : {}),
    model: { base: model.base, ...model.options, ...(fitOptions.lora ? { lora: fitOptions.lora } : {}) },
    training: {
      targetEpsilon: options.targetEpsilon,
      ...(options.delta === undefined ? {} : { delta: options.delta }),
      batchSize: fitOptions.batchSize,
      epochs: fitOptions.epochs,
      ...(fitOptions.lr === undefined ? {} : { lr: fitOptions.lr }),
      ...(fitOptions.maxGradNorm === undefined ? {} : { maxGradNorm: fitOptions.maxGradNorm }),
      ...(fitOptions.physicalBatchSize === undefined ? {} : { physicalBatchSize: fitOptions.physicalBatchSize }),
      ...(fitOptions.warmupSteps === undefined ? {} : { warmupSteps: fitOptions.warmupSteps }),
      ...(fitOptions.accountant === undefined ? {} : { accountant: fitOptions.accountant }),
      ...(fitOptions.checkpointEvery === undefined ? {} : { checkpointEvery: fitOptions.checkpointEvery }),
    },
  };
}

/** A registered model, fitted by `client.eval`; samples go through the budget-checked release. */
export class FittedModel {
  constructor(
    private readonly runSample: (input: SampleInput) => Promise<SampleResult>,
    readonly result: FineTuneResult,
    readonly analyst: string,
  ) {}

  get modelId(): string {
    return this.result.modelId;
  }

  sample(options: { prompts?: string[]; unconditional?: number; temperature?: number; topK?: number; topP?: number; maxNewTokens?: number; seed?: string; maxEpsilon?: number | 'unlimited' }): Promise<SampleResult> {
    const { maxEpsilon, ...rest } = options;
    return this.runSample({ analyst: this.analyst, modelId: this.modelId, maxEpsilon: maxEpsilon ?? this.result.epsilon, ...rest });
  }
}
