// JavaScript that runs inside each fresh QuickJS realm before the analyst's function.
//
// QuickJS-in-WASM already gives isolation from the host: no host function is ever exposed, so the
// realm has no process, require, fs, network or timers to reach. This harness adds what isolation
// alone does not give:
//   - determinism: Date, Math.random, WeakRef/FinalizationRegistry and Promise (jobs the host never
//     runs) are removed, so the same row always maps to the same value;
//   - no dynamic code: eval is removed, and the `constructor` of every kind of function prototype
//     is replaced by a function that throws, so `(() => {}).constructor('…')` compiles nothing;
//   - row independence: every object reachable from the global object (and the intrinsic
//     prototypes that are not) is frozen, and so is the analyst's function, so one row's call
//     cannot leave state that the next row's call reads, although a realm serves a batch. DP
//     training counts each row's contribution once; a function that carried state from row to
//     row would let one row influence many outputs. The garbage collector cannot serve as a
//     channel either: WeakRef and FinalizationRegistry are gone and no memory limit is catchable
//     (quickjs-realm.ts). What remains: the previous row's garbage can decide whether the next row
//     runs out of memory or time; that row then fails, so it carries no content, only its absence.
//   - data-only results: outputs are copied as plain JSON data without running any getter; a
//     function, symbol, bigint, non-finite number, accessor, class instance, cycle or `__proto__`
//     key makes the row fail as `nonSerializable`.
//
// The harness evaluates to `install(fn)`, which returns `callRow(inputJson, verbose)`; callRow
// answers 'V' + JSON for a value, or 'F' + kind (+ '\n' + message when verbose) for a failure.
// Verbose messages are requested only for synthetic rows (dry runs): a message thrown while
// processing a real row may quote the row.

export const FAILURE_KINDS = ['error', 'timeout', 'memory', 'stackOverflow', 'nonSerializable'] as const;
export type FailureKind = (typeof FAILURE_KINDS)[number];

/** Nesting depth above which a result is refused (also what stops cycles). */
export const MAX_OUTPUT_DEPTH = 64;

export const GUEST_HARNESS_SOURCE = String.raw`'use strict';
(function () {
  const G = globalThis;
  const O = Object;
  const freeze = O.freeze, getPrototypeOf = O.getPrototypeOf, defineProperty = O.defineProperty;
  const getOwnPropertyDescriptor = O.getOwnPropertyDescriptor, create = O.create;
  const ownKeys = G.Reflect.ownKeys;
  const isArray = Array.isArray, numberIsFinite = Number.isFinite, stringOf = String;
  const jsonParse = JSON.parse, jsonStringify = JSON.stringify;
  const objectProto = O.prototype, arrayProto = Array.prototype;
  const internalErrorProto = G.InternalError.prototype;
  const MAX_DEPTH = ${MAX_OUTPUT_DEPTH};

  const intrinsicRoots = [G];
  const functionKinds = [function () {}, function* () {}, async function () {}, async function* () {}];
  const refuse = function () { throw new TypeError('dynamic code is refused in the Veil sandbox'); };
  for (const f of functionKinds) {
    const proto = getPrototypeOf(f);
    defineProperty(proto, 'constructor', { value: refuse, writable: false, enumerable: false, configurable: false });
    intrinsicRoots.push(proto, f.prototype === undefined ? proto : getPrototypeOf(f.prototype));
  }
  const iteratorSamples = [
    () => [][Symbol.iterator](), () => ''[Symbol.iterator](), () => new Map()[Symbol.iterator](),
    () => new Set()[Symbol.iterator](), () => /a/g[Symbol.matchAll]('a'),
    () => G.Iterator.from([]).map((x) => x), () => G.Iterator.from({ next() { return { done: true }; } }),
    () => (function () { return getOwnPropertyDescriptor(arguments, 'callee').get; })(),
  ];
  for (const sample of iteratorSamples) {
    try { const it = sample(); intrinsicRoots.push(it, getPrototypeOf(it)); } catch (_) { /* not in this engine */ }
  }

  for (const name of ['eval', 'Function', 'Date', 'Promise', 'Proxy', 'Reflect', 'WeakRef', 'FinalizationRegistry',
                      'SharedArrayBuffer', 'Atomics', 'InternalError']) {
    delete G[name];
  }
  delete Math.random;
  delete Symbol.for;
  delete Symbol.keyFor;
  // tsx/esbuild (keepNames) call __name(fn, "name") inside function bodies.
  defineProperty(G, '__name', { value: (target) => target, writable: false, enumerable: false, configurable: false });

  function deepFreeze(roots) {
    const seen = new Set();
    const work = roots.slice();
    while (work.length > 0) {
      const o = work.pop();
      if ((typeof o !== 'object' && typeof o !== 'function') || o === null || seen.has(o)) continue;
      seen.add(o);
      freeze(o);
      work.push(getPrototypeOf(o));
      for (const key of ownKeys(o)) {
        const d = getOwnPropertyDescriptor(o, key);
        if (d === undefined) continue;
        work.push(d.value, d.get, d.set);
      }
    }
  }
  deepFreeze(intrinsicRoots);

  const NOT_DATA = freeze(create(null));

  function toData(v, depth) {
    if (v === null) return null;
    switch (typeof v) {
      case 'string': case 'boolean': return v;
      case 'number': if (numberIsFinite(v)) return v; throw NOT_DATA;
      case 'object': break;
      default: throw NOT_DATA;
    }
    if (depth >= MAX_DEPTH) throw NOT_DATA;
    const proto = getPrototypeOf(v);
    const keys = ownKeys(v);
    if (isArray(v)) {
      if (proto !== arrayProto) throw NOT_DATA;
      const n = getOwnPropertyDescriptor(v, 'length').value;
      if (keys.length !== n + 1) throw NOT_DATA;
      const out = [];
      for (let i = 0; i < n; i++) {
        const d = getOwnPropertyDescriptor(v, i);
        if (d === undefined || !('value' in d)) throw NOT_DATA;
        out[i] = toData(d.value, depth + 1);
      }
      return out;
    }
    if (proto !== objectProto && proto !== null) throw NOT_DATA;
    const out = create(null);
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i];
      if (typeof key !== 'string' || key === '__proto__') throw NOT_DATA;
      const d = getOwnPropertyDescriptor(v, key);
      if (!d.enumerable) continue;
      if (!('value' in d)) throw NOT_DATA;
      out[key] = toData(d.value, depth + 1);
    }
    return out;
  }

  function classify(e) {
    try {
      if (e !== null && typeof e === 'object' && getPrototypeOf(e) === internalErrorProto) {
        const d = getOwnPropertyDescriptor(e, 'message');
        const m = d === undefined ? undefined : d.value;
        if (m === 'out of memory') return 'memory';
        if (m === 'stack overflow') return 'stackOverflow';
        if (m === 'interrupted') return 'timeout';
      }
    } catch (_) { /* fall through */ }
    return 'error';
  }

  function describe(e) {
    try {
      if (e !== null && typeof e === 'object') return stringOf(e.name) + ': ' + stringOf(e.message);
      return 'thrown value: ' + stringOf(e);
    } catch (_) {
      return 'an exception that cannot be described';
    }
  }

  function fail(kind, e, verbose) {
    return verbose ? 'F' + kind + '\n' + (kind === 'nonSerializable' ? 'the result is not plain JSON data' : describe(e)) : 'F' + kind;
  }

  function install(fn) {
    if (typeof fn !== 'function') throw new TypeError('the traced source did not evaluate to a function');
    deepFreeze([fn]);
    return function callRow(inputJson, verbose) {
      let output;
      try { output = fn(jsonParse(inputJson)); } catch (e) { return fail(classify(e), e, verbose); }
      try { return 'V' + jsonStringify(toData(output, 0)); } catch (e) { return fail(e === NOT_DATA ? 'nonSerializable' : classify(e), e, verbose); }
    };
  }

  return install;
})()`;
