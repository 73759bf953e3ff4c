// What a traced function may name without declaring it.
//
// A traced function travels as source text and runs in an empty QuickJS realm, so any free
// identifier either means something different there or nothing at all. We accept only pure,
// deterministic globals: the same row must always map to the same value, so a dry run on
// synthetic rows predicts the real run and a mapped dataset can be cached by the function's hash.
// The runtime removes or freezes everything else regardless (see guest-harness.ts); this list is
// the early, explainable refusal.

export const ALLOWED_GLOBALS: ReadonlySet<string> = new Set([
  'undefined', 'NaN', 'Infinity',
  'Math', 'JSON', 'String', 'Number', 'Boolean', 'Array', 'Object', 'RegExp', 'Symbol',
  'Map', 'Set', 'WeakMap', 'WeakSet',
  'parseInt', 'parseFloat', 'isNaN', 'isFinite',
  'encodeURIComponent', 'decodeURIComponent', 'encodeURI', 'decodeURI',
  'Error', 'TypeError', 'RangeError', 'SyntaxError', 'URIError', 'EvalError', 'AggregateError',
  // tsx/esbuild run with keepNames and insert `__name(fn, "name")` into function bodies; the
  // sandbox defines it as an identity function.
  '__name',
]);

/** Free identifiers refused with a reason more precise than "not allowed". */
export const REFUSED_GLOBAL_REASONS: ReadonlyMap<string, string> = new Map([
  ['require', 'modules cannot be loaded in the sandbox'],
  ['module', 'modules cannot be loaded in the sandbox'],
  ['exports', 'modules cannot be loaded in the sandbox'],
  ['process', 'the host process is not reachable from the sandbox'],
  ['globalThis', 'the global object is not reachable from a traced function'],
  ['global', 'the global object is not reachable from a traced function'],
  ['window', 'the global object is not reachable from a traced function'],
  ['self', 'the global object is not reachable from a traced function'],
  ['eval', 'dynamic code is refused'],
  ['Function', 'dynamic code is refused'],
  ['WebAssembly', 'WebAssembly is not available in the sandbox'],
  ['setTimeout', 'timers are not available: a traced function runs synchronously'],
  ['setInterval', 'timers are not available: a traced function runs synchronously'],
  ['setImmediate', 'timers are not available: a traced function runs synchronously'],
  ['queueMicrotask', 'timers are not available: a traced function runs synchronously'],
  ['Promise', 'a traced function runs synchronously'],
  ['fetch', 'there is no network in the sandbox'],
  ['XMLHttpRequest', 'there is no network in the sandbox'],
  ['WebSocket', 'there is no network in the sandbox'],
  ['Date', 'Date is refused: it reads the clock, so the result would not be reproducible'],
  ['performance', 'clocks are refused: the result would not be reproducible'],
  ['Atomics', 'shared memory is not available in the sandbox'],
  ['SharedArrayBuffer', 'shared memory is not available in the sandbox'],
  ['Proxy', 'Proxy is not available in the sandbox'],
  ['Reflect', 'Reflect is not available in the sandbox'],
  ['WeakRef', 'garbage-collection observers are not available in the sandbox'],
  ['FinalizationRegistry', 'garbage-collection observers are not available in the sandbox'],
  ['arguments', '`arguments` of an enclosing scope does not exist once the function is serialized'],
  ['console', 'a traced function cannot log: its inputs are private rows'],
  ['Buffer', 'host objects are not available in the sandbox'],
]);

/**
 * Property names that only serve to climb out of the value you hold: to a constructor (and from
 * there to dynamic code), to a prototype to pollute it, or to a caller's frame.
 */
export const REFUSED_PROPERTY_REASONS: ReadonlyMap<string, string> = new Map([
  ['constructor', 'reaching a constructor leads to dynamic code (Function)'],
  ['__proto__', 'prototype manipulation is refused'],
  ['__defineGetter__', 'prototype manipulation is refused'],
  ['__defineSetter__', 'prototype manipulation is refused'],
  ['__lookupGetter__', 'prototype manipulation is refused'],
  ['__lookupSetter__', 'prototype manipulation is refused'],
  ['caller', 'stack-frame introspection is refused'],
  ['callee', 'stack-frame introspection is refused'],
  ['prepareStackTrace', 'stack-trace hooks are refused'],
  ['captureStackTrace', 'stack-trace hooks are refused'],
]);

/** `Object.member` pairs refused although the object itself is allowed. */
export const REFUSED_STATIC_MEMBERS: ReadonlyMap<string, string> = new Map([
  ['Math.random', 'Math.random is refused: the result would not be reproducible'],
  ['Object.setPrototypeOf', 'prototype manipulation is refused'],
  ['Object.defineProperty', 'redefining properties of shared objects is refused'],
  ['Object.defineProperties', 'redefining properties of shared objects is refused'],
  ['Symbol.for', 'the global symbol registry is refused'],
]);
