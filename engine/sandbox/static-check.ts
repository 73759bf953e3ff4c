// The static half of the sandbox: is this function source self-contained?
//
// The source is the analyst's own code, never private data, so errors quote it and point at the
// offending line and column. The check is an early, explainable refusal; it is not the security
// boundary (computed property names like `x['con' + 'structor']` cannot be judged statically).
// The boundary is the QuickJS realm in which the function runs.

import { parse, type Node } from 'acorn';
import { walkFunction } from './scope-walk.ts';
import {
  ALLOWED_GLOBALS, REFUSED_GLOBAL_REASONS, REFUSED_PROPERTY_REASONS, REFUSED_STATIC_MEMBERS,
} from './allowlist.ts';

export interface Violation {
  /** What is refused, e.g. the identifier `process`. */
  readonly subject: string;
  readonly reason: string;
  /** 1-based line and column in the function source. */
  readonly line: number;
  readonly column: number;
}

export class TraceError extends Error {
  override readonly name = 'TraceError';
  constructor(readonly functionName: string, readonly violations: readonly Violation[]) {
    super(
      `cannot trace ${functionName || 'the function'}: it is not self-contained\n` +
      violations.map((v) => `  line ${v.line}, column ${v.column}: ${v.subject}: ${v.reason}`).join('\n'),
    );
  }
}

export interface CheckedFunction {
  /** A JavaScript expression that evaluates to the function (method shorthand is wrapped). */
  readonly expression: string;
  readonly violations: readonly Violation[];
}

const STRICT_PREFIX = '"use strict";\n';

function lineAndColumn(source: string, offset: number): { line: number; column: number } {
  const before = source.slice(0, Math.max(0, Math.min(offset, source.length)));
  const lines = before.split('\n');
  return { line: lines.length, column: lines[lines.length - 1].length + 1 };
}

function onlyWhitespace(text: string): boolean {
  return /^\s*$/.test(text);
}

type Located = { node: Node; expression: string; prefixLength: number } | { error: string; offset: number };

/**
 * Finds the function in `source`: a function or arrow expression, or a method shorthand
 * (`name(x) { … }`, what `toString()` gives for object methods).
 */
function locate(source: string): Located {
  if (/\{\s*\[native code\]\s*\}\s*$/.test(source)) {
    return { error: 'native and bound functions have no source to trace', offset: 0 };
  }
  const attempts = [
    { open: '(', close: '\n)', method: false },
    { open: '({', close: '\n})', method: true },
  ];
  let firstError: { error: string; offset: number } | null = null;
  for (const { open, close, method } of attempts) {
    const prefix = STRICT_PREFIX + open;
    let program;
    try {
      program = parse(prefix + source + close, { ecmaVersion: 'latest', sourceType: 'script' });
    } catch (err) {
      const pos = (err as { pos?: number }).pos ?? prefix.length;
      firstError ??= { error: `syntax error: ${(err as Error).message.replace(/ \(\d+:\d+\)$/, '')}`, offset: pos - prefix.length };
      continue;
    }
    const statement = program.body[1] as (Node & { expression?: Node & Record<string, unknown> }) | undefined;
    const expression = program.body.length === 2 ? statement?.expression : undefined;
    if (!expression) continue;
    const covers = (n: Node) => onlyWhitespace(source.slice(0, n.start - prefix.length)) && onlyWhitespace(source.slice(n.end - prefix.length));
    if (!method) {
      if ((expression.type === 'ArrowFunctionExpression' || expression.type === 'FunctionExpression') && covers(expression)) {
        return { node: expression, expression: `(${source}\n)`, prefixLength: prefix.length };
      }
      continue;
    }
    const props = expression.properties as (Node & Record<string, unknown>)[] | undefined;
    const prop = props?.length === 1 ? props[0] : undefined;
    if (!prop || !prop.method || prop.computed || prop.kind !== 'init' || !covers(prop)) continue;
    const key = prop.key as Node & { name?: string; value?: unknown };
    const keyName = key.type === 'Identifier' ? key.name! : String(key.value);
    return { node: prop.value as Node, expression: `({${source}\n})[${JSON.stringify(keyName)}]`, prefixLength: prefix.length };
  }
  return firstError ?? { error: 'not a function expression, arrow function or method (native, bound and class values cannot be traced)', offset: 0 };
}

/** Parses `source` and lists everything that makes it not self-contained. */
export function checkSource(source: string): CheckedFunction {
  const located = locate(source);
  if ('error' in located) {
    return { expression: '', violations: [{ subject: 'source', reason: located.error, ...lineAndColumn(source, located.offset) }] };
  }
  const violations: Violation[] = [];
  const at = (node: Node) => lineAndColumn(source, node.start - located.prefixLength);
  const add = (subject: string, reason: string, node: Node) => violations.push({ subject, reason, ...at(node) });
  const fnNode = located.node as Node & { generator?: boolean };
  if (fnNode.generator) add('function*', 'a traced function must return a value, not a generator', fnNode);

  walkFunction(fnNode, {
    freeIdentifier(name, node) {
      if (ALLOWED_GLOBALS.has(name)) return;
      const reason = REFUSED_GLOBAL_REASONS.get(name)
        ?? `free identifier: a traced function may use only its parameters, its own declarations and the pure globals (${[...ALLOWED_GLOBALS].filter((g) => g !== '__name').join(', ')})`;
      add(name, reason, node);
    },
    unboundThis(node) {
      add('this', 'a traced function is called without a receiver; `this` would not refer to anything you wrote', node);
    },
    propertyName(name, objectNode, node) {
      const reason = REFUSED_PROPERTY_REASONS.get(name);
      if (reason) { add(name, reason, node); return; }
      if (objectNode?.type === 'Identifier') {
        const member = `${(objectNode as Node & { name: string }).name}.${name}`;
        const memberReason = REFUSED_STATIC_MEMBERS.get(member);
        if (memberReason) add(member, memberReason, node);
      }
    },
    refusedSyntax(what, node) {
      add(what, 'refused in a traced function', node);
    },
  });
  violations.sort((a, b) => a.line - b.line || a.column - b.column);
  return { expression: located.expression, violations };
}
