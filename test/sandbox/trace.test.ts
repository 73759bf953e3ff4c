// trace(): serialization of analysts' functions and the static self-containment check.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { trace, traceSource, verifyTraced, sourceSha256 } from '../../engine/sandbox/traced.ts';
import { TraceError } from '../../engine/sandbox/static-check.ts';
import { runTraced } from '../../engine/sandbox/run-traced.ts';

function refusal(fn: () => unknown): TraceError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof TraceError, `expected a TraceError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected the function to be refused');
}

void test('a traced function is plain JSON with a sha256 of its source', () => {
  const lower = (s: string) => s.toLowerCase();
  const traced = trace(lower);
  assert.equal(traced.kind, 'veil.traced');
  assert.equal(traced.version, 1);
  assert.equal(traced.name, 'lower');
  assert.equal(traced.source, lower.toString());
  assert.equal(traced.sha256, sourceSha256(lower.toString()));
  assert.deepEqual(JSON.parse(JSON.stringify(traced)), { ...traced });
  assert.equal(trace(lower, { name: 'custom' }).name, 'custom');
});

void test('arrows, function expressions, named functions and method shorthand are traced and run', async () => {
  const object = { shout(s: string) { return s.toUpperCase(); } };
  const fns = [
    trace((s: string) => s + '!'),
    trace(function (s: string) { return s + '!'; }),
    trace(function named(s: string) { return s + '!'; }),
    trace(object.shout),
  ];
  assert.match(fns[3].source, /^shout\(/); // what toString gives for a method
  // Four runs at once, each starting its worker thread: on a loaded 2-core machine a 100 ms slot
  // was once too short for one of them (its row came back unanswered). This test is about the
  // forms that trace, not the slot, so the slots are generous.
  const results = await Promise.all(fns.map((f) => runTraced(f, ['a'], { slotMs: 1000 })));
  assert.deepEqual(results.map((r) => r.outputs[0]), ['a!', 'a!', 'a!', 'A']);
});

void test('code transformed by tsx (keepNames __name helpers, classes, destructuring) passes and runs', async () => {
  const fn = (row: { text: string; tags: string[] }) => {
    function words(s: string) { return s.split(/\s+/).filter(Boolean); }
    const count = (xs: string[]) => xs.length;
    class Counter { n = 0; static zero = 0; add(k: number) { this.n += k; return this; } }
    const { text, ...rest } = row;
    let total = 0;
    for (const w of words(text)) total += w.length;
    switch (total % 2) { case 0: { const even = true; return { even, n: new Counter().add(count(words(text))).n, rest }; } default: return { even: false, n: Counter.zero, rest }; }
  };
  const traced = trace(fn);
  assert.match(traced.source, /__name/, 'tsx adds __name helpers; the test needs them to be meaningful');
  const result = await runTraced(traced, [{ text: 'one two four', tags: ['x'] }], { slotMs: 100 });
  assert.deepEqual(result.outputs, [{ even: true, n: 3, rest: { tags: ['x'] } }]);
});

void test('a refusal names the identifier and its line and column in the function source', () => {
  const err = refusal(() => traceSource('(row) => {\n  const url = "x";\n  return fetch(url);\n}', { name: 'leaky' }));
  assert.equal(err.violations.length, 1);
  assert.deepEqual({ ...err.violations[0], reason: undefined }, { subject: 'fetch', line: 3, column: 10, reason: undefined });
  assert.match(err.message, /cannot trace leaky/);
  assert.match(err.message, /line 3, column 10: fetch: there is no network/);
});

void test('free identifiers are judged with real scoping', () => {
  // A local named like a host global is fine.
  assert.doesNotThrow(() => traceSource('(x) => { const process = x; return process; }'));
  assert.doesNotThrow(() => traceSource('(x) => { try { return JSON.parse(x); } catch (require) { return String(require); } }'));
  // A name declared in an inner block does not cover a use outside it.
  const err = refusal(() => traceSource('(x) => { { let process = 1; } return process; }'));
  assert.deepEqual(err.violations.map((v) => v.subject), ['process']);
  // Writing an undeclared name would create a global: refused.
  assert.deepEqual(refusal(() => traceSource('(x) => { total = x; return x; }')).violations.map((v) => v.subject), ['total']);
});

void test('this is refused at the top of the function but allowed in nested methods and class bodies', () => {
  assert.deepEqual(refusal(() => traceSource('function (x) { return this; }')).violations.map((v) => v.subject), ['this']);
  assert.deepEqual(refusal(() => traceSource('(x) => this')).violations.map((v) => v.subject), ['this']);
  assert.doesNotThrow(() => traceSource('(x) => { const o = { v: x, get() { return this.v; } }; class K { static { this.k = 1; } } return o.get(); }'));
});

void test('nondeterministic and asynchronous code is refused', () => {
  assert.deepEqual(refusal(() => traceSource('(x) => Math.random()')).violations.map((v) => v.subject), ['Math.random']);
  assert.deepEqual(refusal(() => traceSource('(x) => new Date()')).violations.map((v) => v.subject), ['Date']);
  assert.match(refusal(() => traceSource('async (x) => x')).violations[0].subject, /async/);
  assert.match(refusal(() => traceSource('function* (x) { yield x; }')).violations[0].reason, /generator/);
});

void test('native and bound functions and non-functions cannot be traced', () => {
  assert.match(refusal(() => trace(Math.max)).violations[0].reason, /native/);
  assert.match(refusal(() => trace(((x: number) => x).bind(null))).violations[0].reason, /native/);
  assert.throws(() => trace('x => x' as never), TypeError);
  assert.match(refusal(() => traceSource('class K {}')).violations[0].subject, /source/);
  assert.match(refusal(() => traceSource('(x) => x; process.exit()')).violations[0].subject, /source/);
});

void test('verifyTraced re-checks a traced function received from elsewhere', () => {
  const good = trace((s: string) => s.trim());
  assert.equal(verifyTraced(JSON.parse(JSON.stringify(good))).sha256, good.sha256);
  // A swapped source no longer matches its hash.
  assert.throws(() => verifyTraced({ ...good, source: '(s) => s' }), /sha256 does not match/);
  // A forged value with a matching hash is still checked for self-containment.
  const forged = { ...good, source: '(s) => process.env', sha256: sourceSha256('(s) => process.env') };
  assert.throws(() => verifyTraced(forged), (err: unknown) => err instanceof TraceError && err.violations[0].subject === 'process');
  assert.throws(() => verifyTraced({ kind: 'veil.traced', version: 2, source: '', name: '', sha256: '' }), /version 1/);
});
