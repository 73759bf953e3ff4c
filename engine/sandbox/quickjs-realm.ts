// One QuickJS runtime + context, hardened by the guest harness, holding one traced function.
//
// Why quickjs-emscripten and not isolated-vm: isolated-vm 6/7 require Node 22/24 (Veil runs on
// Node 20) and build native code at install time (prebuilt binaries come from GitHub, which build
// machines cannot reach); isolated-vm 5 is unmaintained. quickjs-emscripten runs QuickJS compiled
// to WebAssembly: nothing native, nothing downloaded, works on Node 20, and the guest can touch
// nothing but its own linear memory. No host function is ever exposed to it.
//
// Limits: CPU time through QuickJS's interrupt handler (a deadline per row), stack depth through
// QuickJS's stack budget, memory through the instance's capped linear memory (wasm-instance.ts).
// We deliberately do NOT set QuickJS's own memory limit: under Emscripten it compares each request
// with a counter of live allocations (garbage included), and since its error is catchable, a row
// could measure what the previous row left behind by probing it. Hitting the linear-memory cap
// fails the row whatever the function does, so it cannot be used as a probe.

import type { QuickJSContext, QuickJSHandle, QuickJSRuntime } from 'quickjs-emscripten-core';
import type { CappedInstance, MemoryGuard } from './wasm-instance.ts';
import { GUEST_HARNESS_SOURCE, type FailureKind } from './guest-harness.ts';

export interface RealmLimits {
  /** CPU-time budget for one row's call, in milliseconds. */
  readonly timeLimitMs: number;
  /** Bytes of interpreter stack (bounds recursion depth). */
  readonly maxStackBytes: number;
}

export type RowOutcome =
  | { readonly ok: true; readonly json: string }
  | { readonly ok: false; readonly kind: FailureKind; readonly message?: string };

const SETUP_TIME_MS = 2000;

export class SandboxRealm {
  private readonly runtime: QuickJSRuntime;
  private readonly context: QuickJSContext;
  private readonly callRow: QuickJSHandle;
  private readonly guard: MemoryGuard;
  private deadline = Number.POSITIVE_INFINITY;
  private interrupted = false;
  /** The realm must not serve another row: a limit was hit mid-call. */
  spoiled = false;
  /** The WASM instance must not serve another realm (memory cap reached, host stack overflow). */
  instanceBroken = false;

  constructor(instance: CappedInstance, expression: string, private readonly limits: RealmLimits) {
    this.guard = instance.guard;
    this.runtime = instance.module.newRuntime();
    try {
      this.runtime.setMaxStackSize(limits.maxStackBytes);
      this.runtime.setInterruptHandler(() => {
        if (performance.now() <= this.deadline) return false;
        this.interrupted = true;
        return true;
      });
      this.context = this.runtime.newContext();
      const ctx = this.context;
      this.deadline = performance.now() + SETUP_TIME_MS;
      const install = ctx.unwrapResult(ctx.evalCode(GUEST_HARNESS_SOURCE, 'veil-harness.js'));
      const fn = this.evalFunction(expression);
      const installed = ctx.callFunction(install, ctx.undefined, fn);
      install.dispose();
      fn.dispose();
      this.callRow = ctx.unwrapResult(installed);
      this.deadline = Number.POSITIVE_INFINITY;
    } catch (err) {
      this.dispose();
      throw err;
    }
  }

  private evalFunction(expression: string): QuickJSHandle {
    const result = this.context.evalCode(`"use strict";\n${expression}`, 'traced.js');
    if (result.error) {
      // The analyst's own source failed to evaluate: quoting QuickJS's message is safe (no row involved).
      const message = String((this.context.dump(result.error) as { message?: unknown })?.message ?? 'unknown error');
      result.error.dispose();
      throw new Error(`the traced function did not evaluate in the sandbox: ${message}`);
    }
    return result.value;
  }

  /**
   * Runs the function on one input, given as JSON text. `verbose` keeps the thrown message and is
   * for synthetic rows only.
   */
  call(inputJson: string, verbose: boolean): RowOutcome {
    if (this.spoiled) throw new Error('internal: a spoiled realm was reused');
    const ctx = this.context;
    this.guard.reset();
    this.interrupted = false;
    this.deadline = performance.now() + this.limits.timeLimitMs;
    const input = ctx.newString(inputJson);
    let result;
    try {
      result = ctx.callFunction(this.callRow, ctx.undefined, input, verbose ? ctx.true : ctx.false);
    } catch (err) {
      // Some QuickJS C recursions (JSON.stringify of deep arrays, for one) grow the WebAssembly
      // native stack faster than QuickJS's own stack check sees, and V8 stops them with a host
      // RangeError thrown through the WASM frames. QuickJS was interrupted mid-C-function: the
      // whole instance is suspect, so the caller drops it, not just this realm.
      if (!(err instanceof RangeError)) throw err;
      this.spoiled = true;
      this.instanceBroken = true;
      this.deadline = Number.POSITIVE_INFINITY;
      return verbose ? { ok: false, kind: 'stackOverflow', message: 'the call recursed too deeply' } : { ok: false, kind: 'stackOverflow' };
    }
    input.dispose();
    this.deadline = Number.POSITIVE_INFINITY;
    let outcome: RowOutcome;
    if (result.error) {
      // The error escaped the harness: an uncatchable interrupt, or a limit hit inside the
      // harness itself. We never read its message: it could contain row content.
      result.error.dispose();
      outcome = { ok: false, kind: this.interrupted ? 'timeout' : 'memory' };
    } else {
      const text = ctx.getString(result.value);
      result.value.dispose();
      outcome = decode(text, verbose);
    }
    if (this.guard.exhausted) {
      // The function ran into the memory cap, whether or not it caught the error. The allocator's
      // layout after that would shape how the next row runs out of memory: new instance.
      this.instanceBroken = true;
      outcome = verbose ? { ok: false, kind: 'memory', message: 'the call ran past its memory limit' } : { ok: false, kind: 'memory' };
    }
    if (!outcome.ok && outcome.kind !== 'error' && outcome.kind !== 'nonSerializable') this.spoiled = true;
    return outcome;
  }

  dispose(): void {
    if (this.instanceBroken) return; // the instance is dropped whole; touching it again is pointless
    // Handles die with their context; a half-built realm may lack some of them.
    try { this.callRow?.dispose(); } catch { /* already gone */ }
    try { this.context?.dispose(); } catch { /* already gone */ }
    try { this.runtime.dispose(); } catch { /* already gone */ }
  }
}

function decode(text: string, verbose: boolean): RowOutcome {
  if (text.startsWith('V')) return { ok: true, json: text.slice(1) };
  const newline = text.indexOf('\n');
  const kind = (newline < 0 ? text.slice(1) : text.slice(1, newline)) as FailureKind;
  return verbose && newline >= 0 ? { ok: false, kind, message: text.slice(newline + 1) } : { ok: false, kind };
}
