// Starting and stopping a background server process that outlives the CLI that started it.
// The pid goes to <home>/run/<name>.pid and output to <home>/logs/<name>.log, so `veil infra down`
// and `status` work from any later shell.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export interface DaemonPaths {
  run: string;
  logs: string;
}

export function pidFile(paths: DaemonPaths, name: string): string {
  return join(paths.run, `${name}.pid`);
}

export function logFile(paths: DaemonPaths, name: string): string {
  return join(paths.logs, `${name}.log`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The pid recorded for a server, if that process is still alive. */
export function runningPid(paths: DaemonPaths, name: string): number | undefined {
  const file = pidFile(paths, name);
  if (!existsSync(file)) return undefined;
  const pid = Number(readFileSync(file, 'utf8').trim());
  return Number.isInteger(pid) && pid > 0 && isAlive(pid) ? pid : undefined;
}

/** Spawns a detached server process, logs appended to its log file, and records its pid. */
export function startDaemon(
  paths: DaemonPaths,
  name: string,
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
): number {
  mkdirSync(paths.run, { recursive: true });
  mkdirSync(paths.logs, { recursive: true });
  const out = openSync(logFile(paths, name), 'a');
  const child = spawn(command, args, { detached: true, stdio: ['ignore', out, out], env });
  closeSync(out);
  if (child.pid === undefined) throw new Error(`could not start ${name} (${command})`);
  child.unref();
  writeFileSync(pidFile(paths, name), String(child.pid));
  return child.pid;
}

/** Stops a server: SIGTERM, then SIGKILL if it has not exited after `graceMs`. */
export async function stopDaemon(paths: DaemonPaths, name: string, graceMs = 10_000): Promise<boolean> {
  const pid = runningPid(paths, name);
  rmSync(pidFile(paths, name), { force: true });
  if (pid === undefined) return false;
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (isAlive(pid) && Date.now() < deadline) await sleep(100);
  if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  while (isAlive(pid)) await sleep(50);
  return true;
}

/** Polls `check` until it succeeds or `timeoutMs` passes. */
export async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs: number, logHint?: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await sleep(250);
  }
  throw new Error(`${what} did not become healthy within ${Math.round(timeoutMs / 1000)} s${logHint ? ` (see ${logHint})` : ''}`);
}
