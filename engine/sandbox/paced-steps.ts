// Real rows through a chain of steps (traced functions in row workers, and host transforms such
// as renames), one row at a time, in fixed time slots (slot-clock.ts) so the run's duration
// depends on the public row count only, and with a hard deadline per row (row-worker-pool.ts).
//
// What comes out is the rows that passed every step and, per traced step, failure COUNTS by kind:
// no message, no index of a failing row (see run-traced.ts for why).

import { verifyTraced, type TracedFunction } from './traced.ts';
import { encodeInput, inputOf, SANDBOX_DEFAULTS, type SandboxOptions } from './evaluate-rows.ts';
import { compiledModule } from './wasm-instance.ts';
import { RowWorkerPool } from './row-worker-pool.ts';
import { checkedRowCount, checkedSlotMs, SlotClock } from './slot-clock.ts';
import { emptyFailureCounts, type TracedRunSummary } from './run-summary.ts';
import type { WorkerOutcome } from './row-worker-protocol.ts';

export interface PacingOptions {
  /**
   * The PUBLIC number of input rows N (the dataset's row count): the run does not end before
   * N × (traced steps) × slotMs. Without it nothing is padded and the duration depends on the rows.
   */
  readonly rowCount?: number;
  /** One row's slot in each traced step, which is also its hard deadline (default DEFAULT_SLOT_MS, 2–1000). */
  readonly slotMs?: number;
  /**
   * Warm workers per traced step (default 4: rows go round them, and three can be killed before
   * a row has to wait for the next start of the refresh cadence).
   */
  readonly workers?: number;
  /**
   * How often a fresh worker starts (default 2,000 ms; the oldest idle one then goes), whatever
   * the rows do; null starts a replacement when a worker is killed instead, which makes the CPU
   * spent depend on the rows (for tests that count realms and instances only).
   */
  readonly refreshMs?: number | null;
}

export type PacedStep =
  | { readonly kind: 'traced'; readonly fn: TracedFunction; readonly column?: string }
  /** A host-side, content-blind change to each row that reaches it (a rename). */
  | { readonly kind: 'transform'; readonly apply: (row: unknown) => unknown };

export interface PacedRun {
  /** The rows that passed every step, in input order. */
  readonly outputs: AsyncIterable<unknown>;
  /** One per traced step, in order; each settles once `outputs` has been consumed to the end. */
  readonly summaries: readonly Promise<TracedRunSummary>[];
  /**
   * The elapsed fraction (0–1) of the padded duration, for heartbeats: a function of time alone,
   * unlike a count of rows done or kept. 0 before the first slot and without `rowCount`.
   */
  progress(): number;
}

export const DEFAULT_WORKERS = 4;
export const DEFAULT_REFRESH_MS = 2000;
/** A worker start takes a core for 0.2–1.5 s: faster cadences would keep one busy. */
export const MIN_REFRESH_MS = 500;

/** QuickJS's own interrupt fires a little before the hard deadline, so a plain loop needs no kill. */
function interruptMsFor(slotMs: number, timeLimitMs: number | undefined): number {
  const beforeDeadline = slotMs - Math.max(1, slotMs * 0.2);
  return Math.max(1, Math.min(timeLimitMs ?? beforeDeadline, beforeDeadline));
}

interface StepState {
  readonly step: Extract<PacedStep, { kind: 'traced' }>;
  readonly verified: ReturnType<typeof verifyTraced>;
  readonly failures: ReturnType<typeof emptyFailureCounts>;
  rowsIn: number;
  rowsOut: number;
  pool: RowWorkerPool | null;
  settle: { resolve: (s: TracedRunSummary) => void; reject: (e: unknown) => void };
  readonly summary: Promise<TracedRunSummary>;
}

/** Verifies every traced step now (so a bad function fails before any row is read). */
export function streamPacedSteps(
  steps: readonly PacedStep[],
  rows: Iterable<unknown> | AsyncIterable<unknown>,
  options: SandboxOptions & PacingOptions = {},
): PacedRun {
  const slotMs = checkedSlotMs(options.slotMs);
  const rowCount = checkedRowCount(options.rowCount);
  const workers = Math.max(2, Math.floor(options.workers ?? DEFAULT_WORKERS));
  const refreshMs = options.refreshMs === undefined ? DEFAULT_REFRESH_MS : options.refreshMs;
  if (refreshMs !== null && !(refreshMs >= MIN_REFRESH_MS)) throw new RangeError(`refreshMs must be at least ${MIN_REFRESH_MS} ms, or null (got ${refreshMs})`);
  const states = new Map<PacedStep, StepState>();
  for (const step of steps) {
    if (step.kind !== 'traced') continue;
    const verified = verifyTraced(step.fn);
    let settle!: StepState['settle'];
    const summary = new Promise<TracedRunSummary>((resolve, reject) => { settle = { resolve, reject }; });
    // Nobody may be awaiting a summary yet; a rejection also surfaces through `outputs`.
    summary.catch(() => undefined);
    states.set(step, { step, verified, failures: emptyFailureCounts(), rowsIn: 0, rowsOut: 0, pool: null, settle, summary });
  }
  const traced = [...states.values()];

  const clock = new SlotClock(slotMs);
  let started = false;
  const paddedMs = rowCount === undefined ? 0 : rowCount * traced.length * slotMs;

  async function* outputs(): AsyncGenerator<unknown> {
    try {
      // Start-up depends on the functions, not on the rows: it happens before slot 0.
      const wasmModule = traced.length > 0 ? await compiledModule() : null;
      await Promise.all(traced.map(async (s) => {
        s.pool = await RowWorkerPool.start({
          expression: s.verified.expression,
          interruptMs: interruptMsFor(slotMs, options.timeLimitMs),
          maxStackBytes: options.maxStackBytes ?? SANDBOX_DEFAULTS.maxStackBytes,
          memoryLimitBytes: options.memoryLimitBytes ?? SANDBOX_DEFAULTS.memoryLimitBytes,
          batchSize: Math.max(1, options.batchSize ?? SANDBOX_DEFAULTS.batchSize),
          wasmModule: wasmModule!,
        }, workers, refreshMs);
      }));
      clock.start();
      started = true;
      let slot = 0;
      for await (const row of rows) {
        let current = row;
        let alive = true;
        for (const step of steps) {
          if (step.kind === 'transform') {
            if (alive) current = step.apply(current);
            continue;
          }
          // A row that already failed still spends this slot, idle: later rows start on time.
          await clock.until(slot++);
          if (!alive) continue;
          const state = states.get(step)!;
          state.rowsIn++;
          const outcome = await runRow(state.pool!, current, step.column, slotMs);
          if (!outcome.ok) {
            state.failures.count++;
            state.failures.byKind[outcome.kind]++;
            alive = false;
            continue;
          }
          state.rowsOut++;
          const value = JSON.parse(outcome.json) as unknown;
          current = step.column === undefined ? value : { ...(current as Record<string, unknown>), [step.column]: value };
        }
        if (alive) yield current;
      }
      if (rowCount !== undefined) await clock.until(rowCount * traced.length);
      const elapsedMs = clock.elapsedMs();
      for (const s of traced) {
        s.settle.resolve({
          function: { name: s.verified.name, sha256: s.verified.sha256 },
          rowsIn: s.rowsIn, rowsOut: s.rowsOut, failures: s.failures,
          realmsCreated: s.pool!.realmsCreated, modulesCreated: s.pool!.modulesCreated, elapsedMs,
        });
      }
    } catch (err) {
      for (const s of traced) s.settle.reject(err);
      throw err;
    } finally {
      await Promise.all(traced.map((s) => s.pool?.close()));
    }
  }

  return {
    outputs: outputs(),
    summaries: traced.map((s) => s.summary),
    progress: () => (started && paddedMs > 0 ? Math.min(1, clock.elapsedMs() / paddedMs) : 0),
  };
}

async function runRow(pool: RowWorkerPool, row: unknown, column: string | undefined, slotMs: number): Promise<WorkerOutcome> {
  const inputJson = encodeInput(inputOf(row, column));
  if (inputJson === undefined) return { ok: false, kind: 'nonSerializable' };
  return (await pool.run(inputJson, slotMs)).outcome;
}
