// The sample workflow's contract: what an analyst asks for when sampling from a model, and what
// comes back.
import { z } from 'zod';
import { requestAuthSchema } from './access.ts';
import { idSchema, principalIdSchema } from './ids.ts';

export const SAMPLE_WORKFLOW = 'sample';

export const sampleSchema = z
  .object({
    analyst: principalIdSchema,
    modelId: idSchema,
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

export const SAMPLE_PHASES = [
  { activity: 'authorize', label: 'checking the signed request' },
  { activity: 'checkRelease', label: 'checking the release policy' },
  { activity: 'generateSamples', label: 'generating' },
] as const;

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
