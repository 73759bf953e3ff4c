// Fine-tune and sample jobs: start, watch, list, show and cancel them. A job is one Temporal
// workflow (`finetune-<jobId>` or `sample-<id>`); everything here reads Temporal's own records
// (describe, visibility, history), so the TypeScript SDK, the CLI and the Temporal UI always agree.
export * from './start.ts';
export * from './state.ts';
export * from './list.ts';
export * from './ui-filter.ts';
