// Real `veil worker` processes for fault tests: each one polls a test's own queue (VEIL_TASK_QUEUE
// and <queue>-gpu) and runs in its own process group, so SIGKILL takes down the process and its
// training worker thread at once, exactly like a machine that loses power.
//
// A small sh wrapper leads the group: it forwards SIGTERM, reports the worker's pid, and kills
// the worker if the test process disappears (a crashed or interrupted test run leaves no orphan
// polling forever). SIGKILL to the group takes the wrapper and the worker down together.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';

const projectRoot = fileURLToPath(new URL('../..', import.meta.url));
const VEIL_BIN = fileURLToPath(new URL('../../bin/veil.js', import.meta.url));
/** Enough of a worker's output to explain a failure, without keeping a chatty log forever. */
const KEPT_OUTPUT_CHARS = 20_000;

const WRAPPER = `
"$VEIL_NODE" "$VEIL_BIN" worker & worker=$!
echo "veil-worker-pid $worker"
trap 'kill -TERM $worker 2>/dev/null' TERM INT
while kill -0 $worker 2>/dev/null; do
  kill -0 $VEIL_TEST_PID 2>/dev/null || kill -KILL $worker
  sleep 1 & wait $!
done
wait $worker
`;

export interface WorkerProcess {
  readonly queue: string;
  /** The process group (the wrapper's pid). */
  readonly group: number;
  /** Settles when the wrapper has exited, i.e. after the worker itself exited (or was killed). */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** The worker's own pid, once it is polling: Temporal names it "<pid>@<host>". */
  workerPid(): number | undefined;
  /** Whether the worker runs the activity or poll of this Temporal worker identity. */
  hasIdentity(identity: string): boolean;
  alive(): boolean;
  /** The last lines it wrote (stdout and stderr interleaved), for failure messages. */
  output(): string;
  /** Resolves once it printed "veil worker polling …" (its Temporal workers are created). */
  polling(timeoutMs?: number): Promise<void>;
  /** SIGKILL to its whole process group: no shutdown, no last heartbeat, no checkpoint. */
  kill(): Promise<void>;
  /** SIGTERM (graceful shutdown), SIGKILL after `graceMs`. Safe to call on an exited process. */
  stop(graceMs?: number): Promise<void>;
}

function isRunning(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

/** Starts `node bin/veil.js worker` on `queue` (and `<queue>-gpu`). */
export function spawnWorker(queue: string, env: NodeJS.ProcessEnv = {}): WorkerProcess {
  const child = spawn('sh', ['-c', WRAPPER], {
    cwd: projectRoot,
    env: {
      ...process.env,
      ...env,
      VEIL_TASK_QUEUE: queue,
      VEIL_TASK_QUEUES: 'veil,veil-gpu',
      VEIL_NODE: process.execPath,
      VEIL_BIN,
      VEIL_TEST_PID: String(process.pid),
    },
    detached: true, // its own process group: kill(-group) reaches everything in it
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid === undefined) throw new Error('could not spawn a veil worker');
  const group = child.pid;
  let log = '';
  let pid: number | undefined;
  let announced = false;
  const listeners = new Set<() => void>();
  const append = (chunk: Buffer): void => {
    log = (log + chunk.toString('utf8')).slice(-KEPT_OUTPUT_CHARS);
    pid ??= Number(/veil-worker-pid (\d+)/.exec(log)?.[1]) || undefined;
    if (!announced && log.includes('veil worker polling')) {
      announced = true;
      for (const l of listeners) l();
    }
  };
  child.stdout!.on('data', append);
  child.stderr!.on('data', append);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      for (const l of listeners) l();
      resolve({ code, signal });
    });
  });

  const signalGroup = (signal: NodeJS.Signals): void => {
    try {
      process.kill(-group, signal);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err; // already gone
    }
  };

  return {
    queue,
    group,
    exited,
    workerPid: () => pid,
    hasIdentity: (identity) => pid !== undefined && identity.startsWith(`${pid}@`),
    alive: () => isRunning(child),
    output: () => log,
    async polling(timeoutMs = 90_000) {
      if (announced) return;
      const ready = new Promise<void>((resolve) => listeners.add(resolve));
      const timer = new AbortController();
      const timedOut = sleep(timeoutMs, 'timeout' as const, { signal: timer.signal }).catch(() => 'ready' as const);
      const outcome = await Promise.race([ready.then(() => 'ready' as const), timedOut]);
      timer.abort();
      if (announced) return;
      const why = outcome === 'timeout' ? `did not start polling within ${timeoutMs / 1000} s` : 'exited before polling';
      throw new Error(`veil worker on ${queue} ${why}; its output:\n${log}`);
    },
    async kill() {
      signalGroup('SIGKILL');
      await exited;
    },
    async stop(graceMs = 10_000) {
      if (!isRunning(child)) return;
      signalGroup('SIGTERM');
      const timer = new AbortController();
      const late = sleep(graceMs, 'late' as const, { signal: timer.signal }).catch(() => 'exited' as const);
      const outcome = await Promise.race([exited.then(() => 'exited' as const), late]);
      timer.abort();
      if (outcome === 'late') {
        signalGroup('SIGKILL');
        await exited;
      }
    },
  };
}
