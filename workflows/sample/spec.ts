// What an analyst asks for when sampling from a model: the sample workflow's input.
import { z } from 'zod';
import { requestAuthSchema } from '../validation.ts';

export const sampleSchema = z
  .object({
    analyst: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._@-]{0,127}$/, 'letters, digits, . _ @ -'),
    modelId: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._@-]{0,127}$/, 'letters, digits, . _ @ -'),
    /** Completions of these prompts ('' is an unconditional sample). */
    prompts: z.array(z.string().max(4000)).max(256).default([]),
    /** Additional unconditional samples. */
    unconditional: z.number().int().min(0).max(256).default(0),
    /**
     * The largest ε the analyst accepts for what is released: a model trained with more ε is not
     * sampled. 'unlimited' accepts non-DP models (privileged analysts only).
     */
    maxEpsilon: z.union([z.number().positive().finite(), z.literal('unlimited')]),
    temperature: z.number().min(0).max(10).default(1),
    topK: z.number().int().min(0).default(50),
    topP: z.number().gt(0).max(1).default(1),
    maxNewTokens: z.number().int().min(1).max(1024).default(40),
    seed: z.string().min(1).optional(),
    /** The analyst's signature of the request (clients sign for you). */
    auth: requestAuthSchema.optional(),
  })
  .refine((s) => s.prompts.length + s.unconditional > 0, { message: 'ask for at least one sample: prompts or unconditional', path: ['prompts'] });
export type SampleInput = z.input<typeof sampleSchema>;
export type SampleSpec = z.output<typeof sampleSchema>;

export interface SampleResult {
  sampleId: string;
  modelId: string;
  /** The model's ε ('unlimited' for a non-DP model) and δ, reported with every release. */
  epsilon: number | 'unlimited';
  delta: number | null;
  samples: { prompt: string; text: string }[];
  /** Where the samples are stored (S3 key of samples.json). */
  key: string;
}
