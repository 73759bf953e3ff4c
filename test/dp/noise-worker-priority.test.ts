// The noise worker draws the next step's noise ahead of time, so it runs at background priority:
// CPU it takes from onnxruntime's threads during the gradients is wall time lost to both of them
// (engine/threads/background-priority.ts). On Linux the nice value is per thread: the worker must
// be lowered and the trainer's own thread (and so the process) left as it was.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { NoisePrefetcher, RunKey } from '../../engine/dp/index.ts';
import { BACKGROUND_NICE } from '../../engine/threads/background-priority.ts';

/** The nice value of each of this process's threads, by thread id (field 19 of /proc/…/stat). */
function niceByThread(): Map<string, number> {
  const nice = new Map<string, number>();
  for (const tid of readdirSync('/proc/self/task')) {
    const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // fields from 3 on (the name may hold spaces)
    nice.set(tid, Number(fields[19 - 3]));
  }
  return nice;
}

const ownNice = (): number => niceByThread().get(String(process.pid))!;

void test('the noise worker runs at background priority and the trainer thread does not', { skip: process.platform !== 'linux' && 'nice values are per thread on Linux only' }, async (t) => {
  const before = niceByThread();
  const mainNice = ownNice();
  if (mainNice === BACKGROUND_NICE) return t.skip('this process already runs at the background nice value');
  const prefetcher = new NoisePrefetcher(RunKey.generate(), 1000, 1.0);
  try {
    prefetcher.request(0);
    await prefetcher.privatize(0, [new Float32Array(1000)], 8); // the worker has started and drawn
    const lowered = [...niceByThread()].filter(([tid, nice]) => !before.has(tid) && nice === BACKGROUND_NICE);
    assert.equal(lowered.length, 1, 'exactly one new thread (the noise worker) runs at nice 19');
    assert.equal(ownNice(), mainNice, 'the trainer thread keeps its priority');
    const others = [...niceByThread()].filter(([tid, nice]) => before.has(tid) && nice !== before.get(tid));
    assert.deepEqual(others, [], 'no thread that existed before changed its priority');
  } finally {
    await prefetcher.close();
  }
});
