// Time slots for running traced functions over real rows, so that how long a run takes says
// nothing about the rows.
//
// Each row gets one slot per traced step; the slot's length is also the row's hard deadline (its
// worker is terminated at the end, row-worker-pool.ts). Slot i starts at `origin + i × slot`, or
// when the previous slot's row is done if that is later, so every row gets a whole slot whatever
// the rows before it did: there is no shared, cumulative deadline that one row could use up for
// the others. A row that failed at an earlier step still spends its later steps' slots idle, and
// the run does not end before `origin + N × steps × slot`, with N the PUBLIC row count. The total
// is then a function of N, the number of steps and the slot only.
//
// Residual leakage, honestly:
//   - timer granularity and scheduling: the wait and the deadline are setTimeout timers (1 ms
//     granularity, later when the event loop is busy), so a slot's end jitters by about a
//     millisecond plus whatever else the process is doing; the padded end is one timer, so the
//     total moves by that jitter, not by N times it;
//   - clustered kills: a kill costs no time while a warm standby is left, and standbys are
//     replenished on a fixed cadence (row-worker-pool.ts: one start per refresh period, whatever
//     the rows do). More kills than standbys within a few periods make later rows wait for a
//     worker, and the run then ends after the padded time by about that wait: a run with many
//     rows whose native calls outlast the slot, close together, can take longer;
//   - CPU contention: a killed thread goes on for 15–40 ms until V8 stops it, and a realm is
//     rebuilt after a row hit a limit; on a machine without a spare core the next rows get less
//     CPU within the same slot, so a row can make its neighbours more likely to time out (such a
//     row carries no content, only its absence). Measured on the loaded 2-core build machine: a
//     run of 20 rows at 30 ms slots took 600.4–603.5 ms with two killed marker rows and
//     600.3–601.3 ms without (600 ms padded), against 7 s vs 25 ms before the slots;
//   - the slot only covers the sandbox: what the caller does with each output (tokenising it,
//     say) takes its own time, which the next slot absorbs only while it is shorter than a slot.
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * A slot of 25 ms: 40 rows per second per traced step. The maps analysts write take well under a
 * millisecond, but on a loaded 2-core worker a 10 ms slot dropped about one trivial row in a
 * hundred (its thread was not scheduled in time), a loss that costs rows, not privacy.
 */
export const DEFAULT_SLOT_MS = 25;
/** Below 2 ms the timers' own granularity dominates; above 1 s a 2,000-row run takes over half an hour. */
export const MIN_SLOT_MS = 2;
export const MAX_SLOT_MS = 1000;

export function checkedSlotMs(slotMs: number | undefined): number {
  const slot = slotMs ?? DEFAULT_SLOT_MS;
  if (!Number.isFinite(slot) || slot < MIN_SLOT_MS || slot > MAX_SLOT_MS) {
    throw new RangeError(`slotMs must be between ${MIN_SLOT_MS} and ${MAX_SLOT_MS} ms (got ${slotMs})`);
  }
  return slot;
}

export function checkedRowCount(rowCount: number | undefined): number | undefined {
  if (rowCount === undefined) return undefined;
  if (!Number.isSafeInteger(rowCount) || rowCount < 0) throw new RangeError(`rowCount must be a whole number ≥ 0 (got ${rowCount})`);
  return rowCount;
}

export class SlotClock {
  private origin = 0;

  constructor(readonly slotMs: number) {}

  /** Slot 0 starts now. */
  start(): void {
    this.origin = performance.now();
  }

  /** Resolves at the start of slot `index` (at once when that time has passed), never before. */
  async until(index: number): Promise<void> {
    const target = this.origin + index * this.slotMs;
    // Timers have whole-millisecond resolution and may fire a fraction early: wait again if so.
    for (let wait = target - performance.now(); wait > 0; wait = target - performance.now()) await sleep(Math.ceil(wait));
  }

  /** Milliseconds since slot 0 started. */
  elapsedMs(): number {
    return performance.now() - this.origin;
  }
}
