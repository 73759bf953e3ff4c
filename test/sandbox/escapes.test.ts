// Escape attempts: each must be refused, statically (trace) or at run time (the QuickJS realm),
// and each test checks the specific refusal. Run-time checks that bypass the static check use
// computed property names (which no static check can judge) or, for code the static check
// refuses outright, the realm directly: what matters is that the realm holds without it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { traceSource } from '../../engine/sandbox/traced.ts';
import { TraceError } from '../../engine/sandbox/static-check.ts';
import { dryRun } from '../../engine/sandbox/dry-run.ts';
import { runTraced } from '../../engine/sandbox/run-traced.ts';
import { SandboxRealm, type RowOutcome } from '../../engine/sandbox/quickjs-realm.ts';
import { newCappedInstance } from '../../engine/sandbox/wasm-instance.ts';
import { markSynthetic } from '../../engine/synthetic/synthetic-rows.ts';
import type { FailureKind } from '../../engine/sandbox/guest-harness.ts';

/** The subjects a static check refuses in `source`. */
function refusedSubjects(source: string): string[] {
  try {
    traceSource(source);
  } catch (err) {
    assert.ok(err instanceof TraceError, String(err));
    return err.violations.map((v) => v.subject);
  }
  return [];
}

/** Runs `source` (which passes the static check) on one synthetic row; dry runs keep messages. */
async function attempt(source: string, input: unknown = { text: 'synthetic' }, options = {}) {
  const report = await dryRun(traceSource(source), markSynthetic([input as Record<string, unknown>]), options);
  if (report.examples.length > 0) return { ok: true as const, output: report.examples[0].output };
  const failure = report.failureExamples[0];
  return { ok: false as const, kind: failure.kind, message: failure.message };
}

async function assertRefusedAtRunTime(source: string, kind: FailureKind, message?: RegExp, options = {}) {
  const result = await attempt(source, undefined, options);
  assert.equal(result.ok, false, `expected a ${kind} failure, got ${JSON.stringify(result)}`);
  if (result.ok) return;
  assert.equal(result.kind, kind, `message: ${result.message}`);
  if (message) assert.match(result.message, message);
}

/** Evaluates an expression straight in a hardened realm, without the static check. */
async function inRealm(expression: string, input: unknown = null): Promise<RowOutcome> {
  const realm = new SandboxRealm(await newCappedInstance(8 << 20), expression, { timeLimitMs: 1000, maxStackBytes: 128 * 1024 });
  try {
    return realm.call(JSON.stringify(input), true);
  } finally {
    realm.dispose();
  }
}

async function realmValue(expression: string): Promise<unknown> {
  const outcome = await inRealm(expression);
  assert.ok(outcome.ok, JSON.stringify(outcome));
  return JSON.parse(outcome.json);
}

void test('escape 1: polluting Object.prototype fails inside and leaves the host untouched', async () => {
  assert.deepEqual(refusedSubjects('(x) => { ({}).__proto__.polluted = 1; return 1; }'), ['__proto__']);
  await assertRefusedAtRunTime('(x) => { Object.getPrototypeOf({}).polluted = "yes"; return 1; }', 'error', /not extensible/);
  await assertRefusedAtRunTime('(x) => { Object.prototype["toStr" + "ing"] = () => "owned"; return 1; }', 'error', /read-only|not extensible|TypeError/);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  assert.equal(Object.prototype.toString.call([]), '[object Array]');
});

void test('escape 2: this.constructor.constructor("return process")() is refused statically and at run time', async () => {
  assert.deepEqual(refusedSubjects('(x) => this.constructor.constructor("return process")()'), ['this', 'constructor', 'constructor']);
  assert.deepEqual(refusedSubjects('(x) => x["constructor"][`constructor`]("return process")()'), ['constructor', 'constructor']);
  await assertRefusedAtRunTime('(x) => { const k = "constr" + "uctor"; return (function () {})[k]("return process")(); }', 'error', /dynamic code is refused/);
});

void test('escape 3: (() => {}).constructor("return globalThis")() compiles nothing, for every kind of function', async () => {
  assert.deepEqual(refusedSubjects('(x) => (() => {}).constructor("return globalThis")()'), ['constructor']);
  await assertRefusedAtRunTime('(x) => (() => {})["constr" + "uctor"]("return globalThis")()', 'error', /dynamic code is refused/);
  for (const fn of ['function* () {}', 'async function () {}', 'async function* () {}']) {
    const outcome = await inRealm(`(x) => Object.getPrototypeOf(${fn}).constructor("return globalThis")()`);
    assert.deepEqual(outcome, { ok: false, kind: 'error', message: 'TypeError: dynamic code is refused in the Veil sandbox' }, fn);
  }
});

void test('escape 4: process does not exist in the realm', async () => {
  assert.deepEqual(refusedSubjects('(x) => process.env'), ['process']);
  assert.deepEqual(await inRealm('(x) => process.env'), { ok: false, kind: 'error', message: "ReferenceError: 'process' is not defined" });
});

void test('escape 5: require and module do not exist in the realm', async () => {
  assert.deepEqual(refusedSubjects('(x) => require("fs").readFileSync("/etc/passwd", "utf8")'), ['require']);
  assert.deepEqual(await realmValue('(x) => [typeof require, typeof module, typeof exports, typeof Buffer]'), ['undefined', 'undefined', 'undefined', 'undefined']);
});

void test('escape 6: globalThis.process and the obfuscated globalThis["pro" + "cess"] reach nothing', async () => {
  assert.deepEqual(refusedSubjects('(x) => globalThis.process'), ['globalThis']);
  assert.deepEqual(refusedSubjects('(x) => globalThis["pro" + "cess"].env'), ['globalThis']);
  const outcome = await inRealm('(x) => globalThis["pro" + "cess"].env');
  assert.equal(outcome.ok, false);
  assert.match((outcome as { message: string }).message, /TypeError: cannot read property 'env' of undefined/);
});

void test('escape 7: import("fs") is refused statically and loads nothing at run time', async () => {
  assert.deepEqual(refusedSubjects('(x) => import("fs")'), ['dynamic import()']);
  // The realm has no module loader: the promise can never resolve, and a promise is not data.
  assert.deepEqual(await inRealm('(x) => import("fs")'), { ok: false, kind: 'nonSerializable', message: 'the result is not plain JSON data' });
});

void test('escape 8: eval is refused statically and absent at run time', async () => {
  assert.deepEqual(refusedSubjects('(x) => eval("1 + 1")'), ['eval']);
  assert.deepEqual(await realmValue('(x) => [typeof eval, typeof globalThis["ev" + "al"]]'), ['undefined', 'undefined']);
});

void test('escape 9: new Function is refused statically, and the Function constructor is gone at run time', async () => {
  assert.deepEqual(refusedSubjects('(x) => new Function("return process")()'), ['Function']);
  await assertRefusedAtRunTime('(x) => new (Object.getPrototypeOf(() => {})["constr" + "uctor"])("return 1")()', 'error', /dynamic code is refused/);
  assert.deepEqual(await realmValue('(x) => typeof Function'), 'undefined');
});

void test('escape 10: timers do not exist', async () => {
  assert.deepEqual(refusedSubjects('(x) => setTimeout(() => {}, 0)'), ['setTimeout']);
  assert.deepEqual(await realmValue('(x) => [typeof setTimeout, typeof setInterval, typeof setImmediate, typeof queueMicrotask]'), ['undefined', 'undefined', 'undefined', 'undefined']);
});

void test('escape 11: there is no network', async () => {
  assert.deepEqual(refusedSubjects('(x) => fetch("http://example.com")'), ['fetch']);
  assert.deepEqual(await realmValue('(x) => [typeof fetch, typeof XMLHttpRequest, typeof WebSocket]'), ['undefined', 'undefined', 'undefined']);
});

void test('escape 12: WebAssembly does not exist', async () => {
  assert.deepEqual(refusedSubjects('(x) => WebAssembly.compile(new Uint8Array(8))'), ['WebAssembly', 'Uint8Array']);
  assert.deepEqual(await realmValue('(x) => typeof WebAssembly'), 'undefined');
});

void test('escape 13: an infinite loop is stopped at the time limit', async () => {
  const started = performance.now();
  await assertRefusedAtRunTime('(x) => { while (true) {} }', 'timeout', undefined, { timeLimitMs: 150 });
  const elapsed = performance.now() - started;
  assert.ok(elapsed >= 150 && elapsed < 5000, `elapsed ${elapsed} ms`);
});

void test('escape 14: a recursion bomb is stopped at the stack limit', async () => {
  await assertRefusedAtRunTime('(x) => { const down = (n) => down(n + 1) + 1; return down(0); }', 'stackOverflow', /stack overflow/);
});

void test('escape 15: a native recursion that outruns the host stack fails the row, and the next row still runs', async () => {
  const source = '(x) => { if (x.deep) { let a = []; for (let i = 0; i < 100000; i++) a = [a]; return JSON.stringify(a).length; } return x.n; }';
  const result = await runTraced(traceSource(source), [{ deep: true }, { n: 7 }], { slotMs: 1000, workers: 2, refreshMs: null });
  assert.equal(result.failures.byKind.stackOverflow, 1, JSON.stringify(result.failures));
  assert.deepEqual(result.outputs, [7]);
  assert.equal(result.modulesCreated, 2 + 1, 'the interrupted WASM instance is replaced (beside one per worker)');
});

void test('escape 16: a memory bomb ("x".repeat(1e9)) is stopped at the memory limit', async () => {
  await assertRefusedAtRunTime('(x) => "x".repeat(1e9).length', 'memory');
});

void test('escape 17: array growth is stopped at the memory limit, even when the function catches the error', async () => {
  const options = { timeLimitMs: 20_000, memoryLimitBytes: 16 << 20 };
  await assertRefusedAtRunTime('(x) => { const keep = []; while (true) keep.push("x".repeat(1 << 16) + keep.length); }', 'memory', undefined, options);
  await assertRefusedAtRunTime('(x) => { const keep = []; try { while (true) keep.push("x".repeat(1 << 16) + keep.length); } catch (e) { return keep.length; } }', 'memory', undefined, options);
  assert.ok(process.memoryUsage().rss < 1.5e9, 'the host did not absorb the bomb');
});

void test('escape 18: Atomics.wait and SharedArrayBuffer do not exist', async () => {
  assert.deepEqual(refusedSubjects('(x) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0)'), ['Atomics', 'Int32Array', 'SharedArrayBuffer']);
  assert.deepEqual(await realmValue('(x) => [typeof Atomics, typeof SharedArrayBuffer]'), ['undefined', 'undefined']);
});

void test('escape 19: getters on the returned value are never run, by the host or by the serializer', async () => {
  await assertRefusedAtRunTime('(x) => ({ get text() { throw new Error("getter ran"); } })', 'nonSerializable', /not plain JSON/);
  await assertRefusedAtRunTime('(x) => { Object["define" + "Property"](x, "text", { get() { return "from a getter"; }, enumerable: true }); return x; }', 'nonSerializable');
});

void test('escape 20: functions, symbols, bigints, non-finite numbers, class instances and cycles are not data', async () => {
  for (const source of [
    '(x) => () => 1', '(x) => Symbol("s")', '(x) => 10n', '(x) => NaN', '(x) => [1, Infinity]',
    '(x) => new Map()', '(x) => { const o = { x }; o.self = o; return o; }', '(x) => ({ [Symbol.iterator]: 1 })',
    '(x) => undefined', '(x) => { const a = [1, 2]; a.extra = 1; return a; }',
  ]) {
    await assertRefusedAtRunTime(source, 'nonSerializable');
  }
  // Plain data, including nested and null-prototype objects, is fine.
  assert.deepEqual(await attempt('(x) => ({ a: [1, "two", null, true, { b: Object.create(null) }] })'), { ok: true, output: { a: [1, 'two', null, true, { b: {} }] } });
});

void test('escape 21: arguments.callee.caller is refused statically and throws in strict mode', async () => {
  assert.deepEqual(refusedSubjects('function (x) { return arguments.callee.caller; }'), ['callee', 'caller']);
  await assertRefusedAtRunTime('function (x) { return arguments["cal" + "lee"]; }', 'error', /TypeError/);
});

void test('escape 22: Error.prepareStackTrace cannot be installed, in the realm or in the host', async () => {
  const hostBefore = (Error as { prepareStackTrace?: unknown }).prepareStackTrace;
  assert.deepEqual(refusedSubjects('(x) => { Error.prepareStackTrace = (e, s) => s; return new Error().stack; }'), ['prepareStackTrace']);
  await assertRefusedAtRunTime('(x) => { Error["prepare" + "StackTrace"] = (e, s) => s; return 1; }', 'error', /not extensible/);
  assert.equal((Error as { prepareStackTrace?: unknown }).prepareStackTrace, hostBefore);
});

void test('escape 23: Proxy and Reflect do not exist', async () => {
  assert.deepEqual(refusedSubjects('(x) => new Proxy({}, { get: () => 1 })'), ['Proxy']);
  assert.deepEqual(await realmValue('(x) => [typeof Proxy, typeof Reflect]'), ['undefined', 'undefined']);
});

void test('escape 24: a __proto__ key in a result is refused, and the host prototype stays clean', async () => {
  assert.deepEqual(refusedSubjects('(x) => ({ __proto__: { polluted: true } })'), ['__proto__']);
  await assertRefusedAtRunTime('(x) => JSON.parse(\'{"__proto__": {"polluted": true}}\')', 'nonSerializable');
  await assertRefusedAtRunTime('(x) => ({ ["__pro" + "to__"]: { polluted: true } })', 'nonSerializable');
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
});

void test('escape 25: no state carries from one row to the next', async () => {
  const rows = ['first-secret', 'second', 'third'].map((text) => ({ text }));
  const selfMemo = 'function memo(x) { const prev = memo["la" + "st"]; memo["la" + "st"] = x.text; return prev === undefined ? null : prev; }';
  const globalStash = '(x) => { const prev = Math["st" + "ash"]; Math["st" + "ash"] = x.text; return prev === undefined ? null : prev; }';
  for (const source of [selfMemo, globalStash]) {
    const result = await runTraced(traceSource(source), rows, { slotMs: 50 });
    assert.equal(result.failures.byKind.error, 3, source);
    assert.deepEqual(result.outputs, []);
  }
});

void test('escape 26: clocks, randomness and the symbol registry are absent at run time', async () => {
  assert.deepEqual(
    await realmValue('(x) => [typeof Date, typeof Math.random, typeof Symbol.for, typeof performance, typeof WeakRef, typeof FinalizationRegistry, typeof Promise]'),
    ['undefined', 'undefined', 'undefined', 'undefined', 'undefined', 'undefined', 'undefined'],
  );
});

void test('escape 27: catastrophic regular-expression backtracking is stopped at the time limit', async () => {
  await assertRefusedAtRunTime("(x) => /(a+)+$/.test('a'.repeat(40) + 'b')", 'timeout', undefined, { timeLimitMs: 150 });
});
