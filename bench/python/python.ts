// Which Python the benches run their references under: VEIL_PYTHON when set, else the
// project-local environment that bench/python/setup.sh creates with the pinned references.
import { fileURLToPath } from 'node:url';

export const benchVenvPython = fileURLToPath(new URL('../.venv/bin/python', import.meta.url));

export function benchPython(): string {
  return process.env.VEIL_PYTHON ?? benchVenvPython;
}
