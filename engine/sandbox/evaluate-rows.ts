// The loop shared by real runs and dry runs: feed rows one by one to a traced function in a
// sandbox realm, recycling realms and WASM instances as the isolation rules require.
//
// Lifetimes, and why:
//   - one WASM instance per call of evaluateRows (one dataset), with its own capped memory:
//     datasets never share an instance, so even a QuickJS memory-safety bug could not carry data
//     from one to another;
//   - one realm (QuickJS runtime + context) per batch of rows, because building one costs
//     milliseconds (harness + freezing) while a row costs tens of microseconds; the realm's
//     intrinsics are frozen, so a call cannot leave state for the next one. A realm is replaced
//     early when a row hit a limit mid-call;
//   - a new WASM instance after a row ran into the memory cap, or after the host itself had to
//     stop a runaway native recursion.

import { newCappedInstance, type CappedInstance } from './wasm-instance.ts';
import { SandboxRealm, type RealmLimits } from './quickjs-realm.ts';
import type { FailureKind } from './guest-harness.ts';

export interface SandboxOptions {
  /** Map this field of each row instead of the whole row. */
  readonly column?: string;
  /** CPU-time budget per row (default 100 ms). */
  readonly timeLimitMs?: number;
  /**
   * Memory budget in bytes (default 32 MiB): how far the WASM instance's linear memory may grow
   * beyond its initial 16 MiB (which hold the harness, about 1 MiB, and free heap).
   */
  readonly memoryLimitBytes?: number;
  /**
   * Interpreter stack budget in bytes (default 128 KiB ≈ 700 nested calls). Larger values let
   * deep recursion overflow the host's native stack before QuickJS notices; that is handled (the
   * row fails as stackOverflow) but costs a new WASM instance.
   */
  readonly maxStackBytes?: number;
  /** Rows served by one realm before it is replaced (default 1000). */
  readonly batchSize?: number;
}

export const SANDBOX_DEFAULTS = {
  timeLimitMs: 100,
  memoryLimitBytes: 32 * 1024 * 1024,
  maxStackBytes: 128 * 1024,
  batchSize: 1000,
} as const;

export type EvaluatedRow =
  | { readonly row: unknown; readonly ok: true; readonly value: unknown }
  | { readonly row: unknown; readonly ok: false; readonly kind: FailureKind; readonly message?: string };

export interface EvaluationCounters {
  realmsCreated: number;
  modulesCreated: number;
}

/** Give the event loop a turn (heartbeats, timers) at least this often during a long run. */
const YIELD_EVERY_MS = 50;

export function inputOf(row: unknown, column: string | undefined): unknown {
  if (column === undefined) return row;
  if (row === null || typeof row !== 'object') return null;
  return (row as Record<string, unknown>)[column] ?? null;
}

export function encodeInput(value: unknown): string | undefined {
  try {
    return JSON.stringify(value);
  } catch {
    return undefined; // BigInt, cycles: not a JSON row
  }
}

export async function* evaluateRows(
  expression: string,
  rows: Iterable<unknown> | AsyncIterable<unknown>,
  options: SandboxOptions,
  verbose: boolean,
  counters: EvaluationCounters,
): AsyncGenerator<EvaluatedRow> {
  const limits: RealmLimits = {
    timeLimitMs: options.timeLimitMs ?? SANDBOX_DEFAULTS.timeLimitMs,
    maxStackBytes: options.maxStackBytes ?? SANDBOX_DEFAULTS.maxStackBytes,
  };
  const memoryLimitBytes = options.memoryLimitBytes ?? SANDBOX_DEFAULTS.memoryLimitBytes;
  const batchSize = Math.max(1, options.batchSize ?? SANDBOX_DEFAULTS.batchSize);
  let instance: CappedInstance | null = null;
  let realm: SandboxRealm | null = null;
  let rowsInRealm = 0;
  let lastYield = performance.now();

  const freshRealm = async (): Promise<SandboxRealm> => {
    if (!instance) {
      instance = await newCappedInstance(memoryLimitBytes);
      counters.modulesCreated++;
    }
    counters.realmsCreated++;
    rowsInRealm = 0;
    return new SandboxRealm(instance, expression, limits);
  };

  try {
    realm = await freshRealm(); // fails early, before any row, if the function does not evaluate
    for await (const row of rows) {
      if (realm.spoiled || rowsInRealm >= batchSize) {
        realm.dispose();
        if (realm.instanceBroken) instance = null;
        realm = null;
        realm = await freshRealm();
      }
      const inputJson = encodeInput(inputOf(row, options.column));
      if (inputJson === undefined) {
        yield { row, ok: false, kind: 'nonSerializable', ...(verbose ? { message: 'the input is not JSON data' } : {}) };
        continue;
      }
      rowsInRealm++;
      const outcome = realm.call(inputJson, verbose);
      if (outcome.ok) yield { row, ok: true, value: JSON.parse(outcome.json) as unknown };
      else yield { row, ...outcome };
      if (performance.now() - lastYield > YIELD_EVERY_MS) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        lastYield = performance.now();
      }
    }
  } finally {
    realm?.dispose();
  }
}
