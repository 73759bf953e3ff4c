// The sandbox for analysts' functions: trace a function, dry-run it on synthetic rows, run it
// over real rows in killable workers and fixed time slots. See traced.ts, dry-run.ts,
// run-traced.ts and paced-steps.ts.
export { trace, traceSource, verifyTraced, sourceSha256, type TracedFunction, type TraceOptions } from './traced.ts';
export { TraceError, type Violation } from './static-check.ts';
export { runTraced, streamTraced, type TracedRunSummary, type TracedStream, type FailureCounts, type TracedRunOptions } from './run-traced.ts';
export { streamPacedSteps, type PacedStep, type PacedRun, type PacingOptions } from './paced-steps.ts';
export { DEFAULT_SLOT_MS, MIN_SLOT_MS, MAX_SLOT_MS } from './slot-clock.ts';
export { dryRun, type DryRunReport, type DryRunOptions } from './dry-run.ts';
export { SANDBOX_DEFAULTS, type SandboxOptions } from './evaluate-rows.ts';
export { FAILURE_KINDS, type FailureKind } from './guest-harness.ts';
export { releaseFailureCounts, type ReleasedFailureCounts } from './failure-release.ts';
