// Which Python the benches run their references under: VEIL_PYTHON when set, else the
// project-local environment that bench/python/setup.sh creates with the pinned references.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const benchVenvPython = fileURLToPath(new URL('../.venv/bin/python', import.meta.url));

export function benchPython(): string {
  return process.env.VEIL_PYTHON ?? benchVenvPython;
}

/** Why the reference side cannot run, or undefined when it can. */
export function benchPythonMissing(): string | undefined {
  const python = benchPython();
  if (python.includes('/') && !existsSync(python)) {
    return `no Python at ${python}: run bash bench/python/setup.sh (or set VEIL_PYTHON)`;
  }
  return undefined;
}
