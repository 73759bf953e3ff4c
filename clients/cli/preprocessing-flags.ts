// `--rename FROM=TO` and `--map COLUMN=FILE.js` of `veil finetune` and `veil schedule create`: the
// SDK's rename() and map(trace(fn)) from the command line. FILE holds one function, an arrow or a
// `function`, as trace() sees it; it is traced the same way (checked to be self-contained, its
// source and sha256 sent), so the job runs exactly that text in the sandbox.
import { readFileSync } from 'node:fs';
import { basename, extname } from 'node:path';
import type { PreprocessingStep } from '../../contracts/fine-tune.ts';
import { TraceError, traceSource } from '../../engine/sandbox/index.ts';
import { UsageError } from './command-line.ts';

/** commander collector for a repeatable flag. */
export const collect = (value: string, all: string[] = []): string[] => [...all, value];

function pair(flag: string, raw: string, what: string): [string, string] {
  const at = raw.indexOf('=');
  if (at <= 0 || at === raw.length - 1) throw new UsageError(`${flag}: "${raw}": expected ${what}`);
  return [raw.slice(0, at), raw.slice(at + 1)];
}

/** The source of a function file: surrounding blank lines, `export default` and one trailing `;` are not part of it. */
export function functionSource(text: string): string {
  return text.trim().replace(/^export\s+default\s+/, '').replace(/;\s*$/, '').trim();
}

/** Renames first (in the order given), then maps (in the order given): each map sees the renamed columns. */
export function preprocessingFromFlags(renames: readonly string[] = [], maps: readonly string[] = []): PreprocessingStep[] {
  const steps: PreprocessingStep[] = renames.map((raw) => {
    const [from, to] = pair('--rename', raw, 'FROM=TO');
    return { kind: 'rename', from, to };
  });
  for (const raw of maps) {
    const [column, file] = pair('--map', raw, 'COLUMN=FILE.js');
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new UsageError(`--map: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
    try {
      steps.push({ kind: 'map', column, fn: traceSource(functionSource(text), { name: basename(file, extname(file)) }) });
    } catch (err) {
      if (err instanceof TraceError) throw new UsageError(`--map ${file}: ${err.message}`);
      throw err;
    }
  }
  return steps;
}
