// Hard deadlines and data-independent duration for runs over real rows (issue 13, item 3).
//
// QuickJS's interrupt handler does not stop a long native call (indexOf, replaceAll, sort on a
// crafted input); each of those below runs for seconds in a bare realm. The row must still stop
// at its slot, and a function that makes such a call only on rows holding a marker must not
// change how long the run takes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { traceSource, trace } from '../../engine/sandbox/traced.ts';
import { runTraced } from '../../engine/sandbox/run-traced.ts';
import { streamPacedSteps } from '../../engine/sandbox/paced-steps.ts';

/** Native calls that run for seconds in QuickJS (2.5 s, 2.5 s and 2 s measured on a bare realm). */
const SLOW_NATIVE_CALLS = {
  indexOf: "'a'.repeat(400000).indexOf('a'.repeat(4000) + 'b')",
  replaceAll: "'a'.repeat(400000).replaceAll('a'.repeat(4000) + 'b', '').length",
  sort: "JSON.parse('[' + '987654321.5,123456789.25,'.repeat(300000) + '0]').sort()[0]",
};

/** Slack for the timers and a busy 2-core machine; far below the seconds a native call takes. */
const GRACE_MS = 250;

for (const [name, call] of Object.entries(SLOW_NATIVE_CALLS)) {
  void test(`a row whose native ${name} outlasts its slot is stopped at the deadline, and the next row runs`, async () => {
    const fn = traceSource(`(row) => row.crafted ? ${call} : row.n`);
    const slotMs = 50;
    const started = performance.now();
    const result = await runTraced(fn, [{ crafted: true }, { n: 7 }], { slotMs, rowCount: 2 });
    const wallMs = performance.now() - started;
    assert.deepEqual(result.failures.byKind.timeout, 1, JSON.stringify(result.failures));
    assert.deepEqual(result.outputs, [7]);
    // From the first slot to the end: two slots, not the seconds of the native call.
    assert.ok(result.elapsedMs < 2 * slotMs + GRACE_MS, `the rows took ${result.elapsedMs.toFixed(0)} ms`);
    console.log(`${name}: rows ${result.elapsedMs.toFixed(0)} ms, whole run with worker start-up ${wallMs.toFixed(0)} ms`);
  });
}

void test('a run lasts at least N × slot, for the public N, even when fewer rows arrive', async () => {
  const fn = trace((x: number) => x + 1);
  const full = await runTraced(fn, Array.from({ length: 10 }, (_, i) => i), { slotMs: 20, rowCount: 10 });
  assert.ok(full.elapsedMs >= 10 * 20, `${full.elapsedMs} ms`);
  const padded = await runTraced(fn, [1, 2, 3], { slotMs: 20, rowCount: 10 });
  assert.ok(padded.elapsedMs >= 10 * 20, `${padded.elapsedMs} ms`);
  assert.deepEqual(padded.outputs, [2, 3, 4]);
});

void test('chained steps: each row spends one slot per traced step, even after failing an earlier one', async () => {
  const dropsEven = traceSource('(n) => { if (n % 2 === 0) throw new Error("even"); return n; }');
  const doubles = traceSource('(n) => n * 2');
  const rows = Array.from({ length: 8 }, (_, n) => ({ n }));
  const run = streamPacedSteps([
    { kind: 'traced', fn: dropsEven, column: 'n' },
    { kind: 'transform', apply: (row) => ({ m: (row as { n: number }).n }) },
    { kind: 'traced', fn: doubles, column: 'm' },
  ], rows, { slotMs: 50, rowCount: 8 });
  const outputs: unknown[] = [];
  assert.equal(run.progress(), 0);
  for await (const row of run.outputs) outputs.push(row);
  assert.equal(run.progress(), 1, 'progress is the elapsed fraction of the padded time');
  const [first, second] = await Promise.all(run.summaries);
  assert.deepEqual(outputs, [{ m: 2 }, { m: 6 }, { m: 10 }, { m: 14 }]);
  assert.deepEqual([first.failures.byKind.error, second.rowsIn, second.rowsOut], [4, 4, 4], JSON.stringify(first.failures));
  assert.ok(second.elapsedMs >= 8 * 2 * 50, `${second.elapsedMs} ms: padded to N × 2 steps × slot`);
});

/**
 * The attack from the issue: read a private marker digit by digit from the run's duration. The
 * function makes a seconds-long native call only on rows that start with the guessed prefix.
 */
void test('the duration does not tell whether rows hold a guessed marker', async () => {
  const probe = traceSource(`(text) => text.startsWith('MRN-7') ? ${SLOW_NATIVE_CALLS.indexOf} : text.length`);
  const n = 20;
  const slotMs = 30;
  const rowsWith = (marked: number) => Array.from({ length: n }, (_, i) => ({ text: i % 9 === 4 && i / 9 < marked ? 'MRN-7731 diabetes' : `note ${i}` }));
  const present = rowsWith(2);
  const absent = rowsWith(0);
  assert.equal(present.filter((r) => r.text.startsWith('MRN-7')).length, 2);
  const durations: Record<string, number[]> = { present: [], absent: [] };
  for (let round = 0; round < 2; round++) {
    for (const [label, rows] of [['present', present], ['absent', absent]] as const) {
      const result = await runTraced(probe, rows, { column: 'text', slotMs, rowCount: n });
      // The marked rows time out (on a loaded machine another row may too).
      if (label === 'present') assert.ok(result.failures.byKind.timeout >= 2, JSON.stringify(result.failures));
      durations[label].push(result.elapsedMs);
    }
  }
  const padded = n * slotMs;
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const delta = Math.abs(median(durations.present) - median(durations.absent));
  console.log(`marker present ${durations.present.map((d) => d.toFixed(1)).join(', ')} ms; absent ${durations.absent.map((d) => d.toFixed(1)).join(', ')} ms; padded ${padded} ms`);
  assert.ok(delta < 0.15 * padded, `durations differ by ${delta.toFixed(1)} ms (present ${durations.present}, absent ${durations.absent})`);
});
