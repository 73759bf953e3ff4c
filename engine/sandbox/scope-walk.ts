// A scope-aware walk over an ESTree function: reports every identifier that a function body reads
// or writes without declaring it, every `this` that would not be bound by a nested function or
// class, and every property access by name. The static check (static-check.ts) turns these into
// refusals.
//
// We resolve with strict-mode rules because the sandbox evaluates traced functions in strict mode
// (block-scoped function declarations, no `with`). A name declared anywhere in a block is bound
// throughout that block (hoisting / temporal dead zone do not matter for "is it free?").

import type { Node } from 'acorn';

type AnyNode = Node & Record<string, unknown>;

export interface ScopeVisitor {
  freeIdentifier(name: string, node: Node): void;
  unboundThis(node: Node): void;
  /** A property read or written by a name known statically: `a.b`, `a['b']`, `{ b: … }`. */
  propertyName(name: string, objectNode: Node | null, node: Node): void;
  /** A node type the analysis refuses outright (dynamic import, async functions…). */
  refusedSyntax(what: string, node: Node): void;
}

class Scope {
  readonly names = new Set<string>();
  constructor(readonly parent: Scope | null) {}
  has(name: string): boolean {
    return this.names.has(name) || (this.parent?.has(name) ?? false);
  }
}

const FUNCTION_TYPES = new Set(['FunctionExpression', 'FunctionDeclaration', 'ArrowFunctionExpression']);

function isNode(value: unknown): value is AnyNode {
  return typeof value === 'object' && value !== null && typeof (value as { type?: unknown }).type === 'string';
}

/** The property name of a computed key written as a constant: `x['a']`, `x[`a`]`. */
function staticKey(key: AnyNode): string | undefined {
  if (key.type === 'Literal' && typeof key.value === 'string') return key.value;
  if (key.type === 'TemplateLiteral' && (key.expressions as unknown[]).length === 0) {
    return ((key.quasis as AnyNode[])[0].value as { cooked?: string }).cooked;
  }
  return undefined;
}

/** Names bound by a binding pattern (`a`, `{ a, b: [c] }`, `...d`, `e = 1`). */
function patternNames(pattern: AnyNode, out: string[]): string[] {
  switch (pattern.type) {
    case 'Identifier': out.push(pattern.name as string); break;
    case 'ObjectPattern':
      for (const p of pattern.properties as AnyNode[]) patternNames((p.type === 'RestElement' ? p.argument : p.value) as AnyNode, out);
      break;
    case 'ArrayPattern':
      for (const e of pattern.elements as (AnyNode | null)[]) if (e) patternNames(e, out);
      break;
    case 'RestElement': patternNames(pattern.argument as AnyNode, out); break;
    case 'AssignmentPattern': patternNames(pattern.left as AnyNode, out); break;
  }
  return out;
}

/** `var` names of a function body, not crossing into nested functions. */
function collectVarNames(node: AnyNode, out: Set<string>): void {
  if (node.type === 'VariableDeclaration' && node.kind === 'var') {
    for (const d of node.declarations as AnyNode[]) for (const n of patternNames(d.id as AnyNode, [])) out.add(n);
  }
  for (const key of Object.keys(node)) {
    const value = node[key];
    const children = Array.isArray(value) ? value : [value];
    for (const child of children) if (isNode(child) && !FUNCTION_TYPES.has(child.type)) collectVarNames(child, out);
  }
}

/** Lexical declarations that sit directly in a statement list. */
function collectLexicalNames(statements: AnyNode[], scope: Scope): void {
  for (const s of statements) {
    if (s.type === 'VariableDeclaration' && s.kind !== 'var') {
      for (const d of s.declarations as AnyNode[]) for (const n of patternNames(d.id as AnyNode, [])) scope.names.add(n);
    } else if ((s.type === 'FunctionDeclaration' || s.type === 'ClassDeclaration') && s.id) {
      scope.names.add((s.id as AnyNode).name as string);
    }
  }
}

export function walkFunction(fn: Node, visitor: ScopeVisitor): void {
  const walker = new Walker(visitor);
  walker.fn(fn as AnyNode, new Scope(null), false);
}

class Walker {
  constructor(private readonly v: ScopeVisitor) {}

  fn(node: AnyNode, outer: Scope, thisBound: boolean): void {
    if (node.async) this.v.refusedSyntax('async functions (a traced function runs synchronously)', node);
    const scope = new Scope(outer);
    const isArrow = node.type === 'ArrowFunctionExpression';
    if (node.type === 'FunctionExpression' && node.id) scope.names.add((node.id as AnyNode).name as string);
    if (!isArrow) scope.names.add('arguments');
    for (const p of node.params as AnyNode[]) for (const n of patternNames(p, [])) scope.names.add(n);
    const body = node.body as AnyNode;
    if (body.type === 'BlockStatement') {
      collectVarNames(body, scope.names);
      collectLexicalNames(body.body as AnyNode[], scope);
    }
    // The traced function itself is called without a receiver: `this` means nothing there. Nested
    // ordinary functions and methods bind their own `this`; arrows inherit it.
    const innerThis = isArrow ? thisBound : this.depth > 0;
    this.depth++;
    for (const p of node.params as AnyNode[]) this.bindingPattern(p, scope, innerThis);
    if (body.type === 'BlockStatement') this.statements(body.body as AnyNode[], scope, innerThis);
    else this.expr(body, scope, innerThis);
    this.depth--;
  }

  private depth = 0;

  /** Walks the expressions inside a binding pattern: defaults and computed keys. */
  bindingPattern(p: AnyNode, scope: Scope, thisBound: boolean): void {
    switch (p.type) {
      case 'Identifier': return;
      case 'ObjectPattern':
        for (const prop of p.properties as AnyNode[]) {
          if (prop.type === 'RestElement') { this.bindingPattern(prop.argument as AnyNode, scope, thisBound); continue; }
          this.propertyKey(prop, scope, thisBound, null);
          this.bindingPattern(prop.value as AnyNode, scope, thisBound);
        }
        return;
      case 'ArrayPattern':
        for (const e of p.elements as (AnyNode | null)[]) if (e) this.bindingPattern(e, scope, thisBound);
        return;
      case 'RestElement': this.bindingPattern(p.argument as AnyNode, scope, thisBound); return;
      case 'AssignmentPattern':
        this.bindingPattern(p.left as AnyNode, scope, thisBound);
        this.expr(p.right as AnyNode, scope, thisBound);
        return;
      default: this.expr(p, scope, thisBound); // a member expression as an assignment target
    }
  }

  /** Assignment targets (`a = …`, `[a, b.c] = …`, `for (a of …)`): identifiers there are references. */
  assignmentTarget(p: AnyNode, scope: Scope, thisBound: boolean): void {
    if (p.type === 'Identifier') { this.reference(p, scope); return; }
    if (p.type === 'ObjectPattern') {
      for (const prop of p.properties as AnyNode[]) {
        if (prop.type === 'RestElement') { this.assignmentTarget(prop.argument as AnyNode, scope, thisBound); continue; }
        this.propertyKey(prop, scope, thisBound, null);
        this.assignmentTarget(prop.value as AnyNode, scope, thisBound);
      }
      return;
    }
    if (p.type === 'ArrayPattern') {
      for (const e of p.elements as (AnyNode | null)[]) if (e) this.assignmentTarget(e, scope, thisBound);
      return;
    }
    if (p.type === 'RestElement') { this.assignmentTarget(p.argument as AnyNode, scope, thisBound); return; }
    if (p.type === 'AssignmentPattern') {
      this.assignmentTarget(p.left as AnyNode, scope, thisBound);
      this.expr(p.right as AnyNode, scope, thisBound);
      return;
    }
    this.expr(p, scope, thisBound);
  }

  reference(id: AnyNode, scope: Scope): void {
    const name = id.name as string;
    if (!scope.has(name)) this.v.freeIdentifier(name, id);
  }

  propertyKey(prop: AnyNode, scope: Scope, thisBound: boolean, objectNode: AnyNode | null): void {
    const key = prop.key as AnyNode;
    if (prop.computed) {
      this.expr(key, scope, thisBound);
      const name = staticKey(key);
      if (name !== undefined) this.v.propertyName(name, objectNode, key);
    } else if (key.type === 'Identifier') {
      this.v.propertyName(key.name as string, objectNode, key);
    } else if (key.type === 'Literal') {
      this.v.propertyName(String(key.value), objectNode, key);
    }
  }

  statements(list: AnyNode[], scope: Scope, thisBound: boolean): void {
    for (const s of list) this.stmt(s, scope, thisBound);
  }

  block(list: AnyNode[], outer: Scope, thisBound: boolean): void {
    const scope = new Scope(outer);
    collectLexicalNames(list, scope);
    this.statements(list, scope, thisBound);
  }

  stmt(s: AnyNode, scope: Scope, thisBound: boolean): void {
    switch (s.type) {
      case 'BlockStatement': this.block(s.body as AnyNode[], scope, thisBound); return;
      case 'StaticBlock': this.block(s.body as AnyNode[], scope, true); return;
      case 'FunctionDeclaration': this.fn(s, scope, thisBound); return;
      case 'ClassDeclaration': this.classNode(s, scope, thisBound); return;
      case 'VariableDeclaration':
        for (const d of s.declarations as AnyNode[]) {
          this.bindingPattern(d.id as AnyNode, scope, thisBound);
          if (d.init) this.expr(d.init as AnyNode, scope, thisBound);
        }
        return;
      case 'ForStatement': case 'ForInStatement': case 'ForOfStatement': {
        const loopScope = new Scope(scope);
        const head = (s.type === 'ForStatement' ? s.init : s.left) as AnyNode | null;
        if (head?.type === 'VariableDeclaration') collectLexicalNames([head], loopScope);
        if (head) {
          if (head.type === 'VariableDeclaration') this.stmt(head, loopScope, thisBound);
          else if (s.type === 'ForStatement') this.expr(head, loopScope, thisBound);
          else this.assignmentTarget(head, loopScope, thisBound);
        }
        for (const k of ['test', 'update', 'right'] as const) if (s[k]) this.expr(s[k] as AnyNode, loopScope, thisBound);
        this.stmt(s.body as AnyNode, loopScope, thisBound);
        return;
      }
      case 'SwitchStatement': {
        this.expr(s.discriminant as AnyNode, scope, thisBound);
        const cases = s.cases as AnyNode[];
        const inner = new Scope(scope);
        collectLexicalNames(cases.flatMap((c) => c.consequent as AnyNode[]), inner);
        for (const c of cases) {
          if (c.test) this.expr(c.test as AnyNode, inner, thisBound);
          this.statements(c.consequent as AnyNode[], inner, thisBound);
        }
        return;
      }
      case 'TryStatement': {
        this.stmt(s.block as AnyNode, scope, thisBound);
        const handler = s.handler as AnyNode | null;
        if (handler) {
          const catchScope = new Scope(scope);
          if (handler.param) {
            for (const n of patternNames(handler.param as AnyNode, [])) catchScope.names.add(n);
            this.bindingPattern(handler.param as AnyNode, catchScope, thisBound);
          }
          this.stmt(handler.body as AnyNode, catchScope, thisBound);
        }
        if (s.finalizer) this.stmt(s.finalizer as AnyNode, scope, thisBound);
        return;
      }
      case 'LabeledStatement': this.stmt(s.body as AnyNode, scope, thisBound); return;
      case 'BreakStatement': case 'ContinueStatement': case 'EmptyStatement': case 'DebuggerStatement': return;
      default: this.generic(s, scope, thisBound);
    }
  }

  classNode(c: AnyNode, outer: Scope, thisBound: boolean): void {
    if (c.superClass) this.expr(c.superClass as AnyNode, outer, thisBound);
    const scope = new Scope(outer);
    if (c.id) scope.names.add((c.id as AnyNode).name as string);
    for (const member of (c.body as AnyNode).body as AnyNode[]) {
      if (member.type === 'StaticBlock') { this.stmt(member, scope, true); continue; }
      if (member.key && member.kind !== 'constructor') this.propertyKey(member, scope, thisBound, null);
      const value = member.value as AnyNode | null;
      if (!value) continue;
      if (member.type === 'MethodDefinition') this.fn(value, scope, true);
      else this.expr(value, scope, true); // field initialisers see the instance as `this`
    }
  }

  expr(e: AnyNode, scope: Scope, thisBound: boolean): void {
    switch (e.type) {
      case 'Identifier': this.reference(e, scope); return;
      case 'ThisExpression': if (!thisBound) this.v.unboundThis(e); return;
      case 'FunctionExpression': case 'ArrowFunctionExpression': this.fn(e, scope, thisBound); return;
      case 'ClassExpression': this.classNode(e, scope, thisBound); return;
      case 'ImportExpression': this.v.refusedSyntax('dynamic import()', e); this.generic(e, scope, thisBound); return;
      case 'AwaitExpression': this.v.refusedSyntax('await', e); this.generic(e, scope, thisBound); return;
      case 'MetaProperty': return;
      case 'Super': return;
      case 'MemberExpression': {
        const object = e.object as AnyNode;
        this.expr(object, scope, thisBound);
        const property = e.property as AnyNode;
        if (e.computed) {
          this.expr(property, scope, thisBound);
          const name = staticKey(property);
          if (name !== undefined) this.v.propertyName(name, object, property);
        } else if (property.type === 'Identifier') {
          this.v.propertyName(property.name as string, object, property);
        }
        return; // a PrivateIdentifier (#x) is not a reference
      }
      case 'ObjectExpression':
        for (const prop of e.properties as AnyNode[]) {
          if (prop.type === 'SpreadElement') { this.expr(prop.argument as AnyNode, scope, thisBound); continue; }
          this.propertyKey(prop, scope, thisBound, null);
          const value = prop.value as AnyNode;
          if (prop.method || prop.kind === 'get' || prop.kind === 'set') this.fn(value, scope, true);
          else this.expr(value, scope, thisBound);
        }
        return;
      case 'AssignmentExpression':
        this.assignmentTarget(e.left as AnyNode, scope, thisBound);
        this.expr(e.right as AnyNode, scope, thisBound);
        return;
      case 'UpdateExpression': this.assignmentTarget(e.argument as AnyNode, scope, thisBound); return;
      default: this.generic(e, scope, thisBound);
    }
  }

  /** Nodes without bindings of their own: every child node is an expression or statement. */
  generic(node: AnyNode, scope: Scope, thisBound: boolean): void {
    for (const key of Object.keys(node)) {
      if (key === 'type' || key === 'start' || key === 'end' || key === 'loc' || key === 'range') continue;
      const value = node[key];
      const children = Array.isArray(value) ? value : [value];
      for (const child of children) {
        if (!isNode(child)) continue;
        if (child.type.endsWith('Statement') || child.type.endsWith('Declaration')) this.stmt(child, scope, thisBound);
        else this.expr(child, scope, thisBound);
      }
    }
  }
}
