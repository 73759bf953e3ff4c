// Work that runs ahead of its consumer (the next DP step's noise) should use the cores only when
// nothing else needs them: onnxruntime splits each product of the gradient graph between its
// threads, so CPU a helper takes from one of them is wall time lost to both, while the same CPU
// taken from the gaps between products (or while the optimizer leaves a core idle) costs nothing.
// On Linux the nice value is per thread, so setpriority on the calling thread lowers this worker
// alone; elsewhere it would lower the whole process, so there it is left alone. The consumer never
// starves the worker: when it waits for noise, its own threads sleep and the worker has the cores.
import { setPriority } from 'node:os';

/** The lowest nice value on Linux. */
export const BACKGROUND_NICE = 19;

/** Lowers the calling thread to background priority where that affects this thread alone (Linux). */
export function lowerThisThreadToBackground(): boolean {
  if (process.platform !== 'linux') return false;
  try {
    setPriority(0, BACKGROUND_NICE); // pid 0: the calling thread (a per-thread attribute on Linux)
    return true;
  } catch {
    return false; // a sandbox that forbids it: the worker runs at normal priority, only slower steps
  }
}
