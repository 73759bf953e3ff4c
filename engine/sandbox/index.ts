// The sandbox for analysts' functions: trace a function, dry-run it on synthetic rows, run it
// over real rows. See traced.ts, dry-run.ts and run-traced.ts.
export { trace, traceSource, verifyTraced, sourceSha256, type TracedFunction, type TraceOptions } from './traced.ts';
export { TraceError, type Violation } from './static-check.ts';
export { runTraced, streamTraced, type TracedRunSummary, type TracedStream, type FailureCounts } from './run-traced.ts';
export { dryRun, type DryRunReport, type DryRunOptions } from './dry-run.ts';
export { SANDBOX_DEFAULTS, type SandboxOptions } from './evaluate-rows.ts';
export { FAILURE_KINDS, type FailureKind } from './guest-harness.ts';
export { releaseFailureCounts, type ReleasedFailureCounts } from './failure-release.ts';
