/**
 * Per-file facts for the workspace index: one parse per file, pure, plain JSON
 * (cached on disk by hosts, shipped across worker threads). Everything the index
 * and the wrapper learner need is extracted here once, relative to the file:
 * struct definitions, typedefs, globals, function definitions with their
 * parameters, local variable types, calls (callee, argument keys, locks held at
 * the call by a syntactic scan along the function, how the result is used),
 * returned expressions, pointer stores into fields, and function-pointer
 * initialisers (`.free = foo_free`).
 *
 * Expressions are stored as keys in the lock-identity normal form
 * (`&obj->base.refcount` -> `obj.base.refcount`, see analysis/lockid.ts). Types
 * are spelled `struct foo`, `union foo` or a typedef/base name (`atomic_t`),
 * with a pointer depth.
 */
import type { Node } from 'web-tree-sitter';
import { indexCatalog, builtinCatalog, type CatalogIndex } from '../catalog/index';
import type { CParser } from '../parse/parser';
import { functionName, hasDamage, parseKernelC } from '../parse/source';
import { lockKey } from '../analysis/lockid';
import { splitArgs } from '../cfg/build';

/** Bump when the shape or content of FileFacts changes: cached facts of another version are ignored. */
export const FACTS_VERSION = 3;

export interface TypeRef {
  /** `struct foo`, `union foo`, `atomic_t`, `u32`... */
  t: string;
  /** Pointer depth (0 = embedded / by value). */
  p: number;
}

export interface FieldFact extends TypeRef {
  n: string;
  /** Declared `__rcu`. */
  rcu?: 1;
  /** Array field. */
  arr?: 1;
}

export interface StructFact {
  /** `struct foo` / `union foo` (anonymous nested types are named `struct outer::field`). */
  name: string;
  line: number;
  fields: FieldFact[];
}

export interface GlobalFact extends TypeRef {
  n: string;
  line: number;
  static?: 1;
  rcu?: 1;
}

export interface ParamFact extends TypeRef {
  n: string;
}

export interface CallFact {
  /** Callee name; `->field` for a call through a function pointer field, `*` when unknown. */
  c: string;
  l: number;
  col: number;
  /** Argument keys (lock-identity normal form, capped). */
  a: string[];
  /** Lock keys held at the call (syntactic scan); `rcu` for an RCU read-side section. */
  h?: string[];
  /** The result is assigned to this variable key. */
  s?: string;
  /** The result is returned directly. */
  ret?: 1;
  /** The result is tested (if/while/ternary/!/&&/||). */
  cond?: 1;
  /** The result is ignored (expression statement). */
  ign?: 1;
  /** An iterator macro (`list_for_each_entry(pos, head, member) {`). */
  it?: 1;
}

export interface StoreFact {
  l: number;
  /** Assigned location key (`dev.obj`, `*p`). */
  to: string;
  /** Assigned value key (identifier or `call:name`). */
  v: string;
}

export interface FunctionFact {
  name: string;
  line: number;
  endLine: number;
  static?: 1;
  inline?: 1;
  damaged?: 1;
  ret: TypeRef;
  params: ParamFact[];
  /** Local variables with their types (later declarations of the same name win). */
  vars: Record<string, TypeRef>;
  calls: CallFact[];
  /** Returned expression keys, in source order. */
  returns: string[];
  stores: StoreFact[];
}

export interface PrototypeFact {
  name: string;
  line: number;
  ret: TypeRef;
  params: ParamFact[];
}

export interface FileFacts {
  version: number;
  file: string;
  structs: StructFact[];
  typedefs: Record<string, string>;
  globals: GlobalFact[];
  functions: FunctionFact[];
  prototypes: PrototypeFact[];
  /** Function-pointer initialisers: [field, function name]. */
  fptrs: [string, string][];
  /** `kmem_cache_create(...)` with SLAB_TYPESAFE_BY_RCU: the cache variable keys. */
  typesafeCaches: string[];
  stats: { functions: number; damaged: number; bytes: number };
}

const MAX_KEY = 96;
const MAX_CALLS_PER_FUNCTION = 4000;

/** Global macro declarations (`static LIST_HEAD(x);`) and the type they declare. */
const DECL_MACROS: Record<string, string> = {
  LIST_HEAD: 'struct list_head', HLIST_HEAD: 'struct hlist_head', DEFINE_IDR: 'struct idr', DEFINE_XARRAY: 'struct xarray',
  DEFINE_XARRAY_ALLOC: 'struct xarray', DEFINE_XARRAY_ALLOC1: 'struct xarray', DEFINE_XARRAY_FLAGS: 'struct xarray', DEFINE_HASHTABLE: 'struct hlist_head',
  DEFINE_READ_MOSTLY_HASHTABLE: 'struct hlist_head', RADIX_TREE: 'struct radix_tree_root', DEFINE_MUTEX: 'struct mutex', DEFINE_SPINLOCK: 'spinlock_t',
  DEFINE_RWLOCK: 'rwlock_t', DECLARE_RWSEM: 'struct rw_semaphore', DEFINE_IDA: 'struct ida', LLIST_HEAD: 'struct llist_head',
};

function key(text: string): string {
  const k = lockKey(text);
  return k.length > MAX_KEY ? k.slice(0, MAX_KEY) : k;
}

function typeText(n: Node | null, orig: string): string {
  if (!n) return 'int';
  switch (n.type) {
    case 'struct_specifier':
    case 'union_specifier': {
      const name = n.childForFieldName('name');
      return `${n.type === 'struct_specifier' ? 'struct' : 'union'} ${name ? name.text : '<anon>'}`;
    }
    case 'enum_specifier':
      return 'enum';
    case 'sized_type_specifier':
      return orig.slice(n.startIndex, n.endIndex).replace(/\s+/g, ' ');
    default:
      return n.text;
  }
}

/** Walk a declarator: name, pointer depth, array. */
function declInfo(d: Node | null): { name: string | null; p: number; arr: boolean; fn: Node | null } {
  let p = 0;
  let arr = false;
  let fn: Node | null = null;
  for (let i = 0; d && i < 24; i++) {
    switch (d.type) {
      case 'identifier':
      case 'field_identifier':
      case 'type_identifier':
        return { name: d.text, p, arr, fn };
      case 'pointer_declarator':
      case 'abstract_pointer_declarator':
        p++;
        d = d.childForFieldName('declarator');
        break;
      case 'array_declarator':
        arr = true;
        d = d.childForFieldName('declarator');
        break;
      case 'function_declarator':
        fn ??= d;
        d = d.childForFieldName('declarator');
        break;
      case 'init_declarator':
        d = d.childForFieldName('declarator');
        break;
      case 'parenthesized_declarator':
        d = d.namedChild(0);
        break;
      default: {
        const inner: Node | null = d.childForFieldName('declarator');
        if (!inner) return { name: null, p, arr, fn };
        d = inner;
      }
    }
  }
  return { name: null, p, arr, fn };
}

interface Ctx {
  text: string;
  cat: CatalogIndex;
  facts: FileFacts;
  anonCounter: number;
}

function lineOf(n: Node): number {
  return n.startPosition.row + 1;
}

/* ------------------------------------------------------------ structs */

function structFact(ctx: Ctx, spec: Node, name: string): void {
  const body = spec.childForFieldName('body');
  if (!body) return;
  const fields: FieldFact[] = [];
  collectFields(ctx, body, name, fields);
  ctx.facts.structs.push({ name, line: lineOf(spec), fields });
}

function collectFields(ctx: Ctx, body: Node, owner: string, fields: FieldFact[]): void {
  for (let i = 0; i < body.namedChildCount; i++) {
    const f = body.namedChild(i);
    if (!f) continue;
    if (f.type === 'preproc_if' || f.type === 'preproc_ifdef' || f.type === 'preproc_else' || f.type === 'preproc_elif') {
      collectFields(ctx, f, owner, fields);
      continue;
    }
    if (f.type !== 'field_declaration') continue;
    const tn = f.childForFieldName('type');
    const original = ctx.text.slice(f.startIndex, f.endIndex);
    const rcu = /\b__rcu\b/.test(original);
    let t = typeText(tn, ctx.text);
    const decls = f.childrenForFieldName('declarator').filter((d): d is Node => d !== null);
    if (tn && (tn.type === 'struct_specifier' || tn.type === 'union_specifier') && tn.childForFieldName('body')) {
      if (decls.length === 0) {
        // Anonymous member: its fields belong to the owner.
        collectFields(ctx, tn.childForFieldName('body')!, owner, fields);
        continue;
      }
      if (!tn.childForFieldName('name')) {
        const first = declInfo(decls[0]!).name ?? `anon${ctx.anonCounter++}`;
        t = `${tn.type === 'struct_specifier' ? 'struct' : 'union'} ${owner.replace(/^(struct|union) /, '')}::${first}`;
        structFact(ctx, tn, t);
      } else structFact(ctx, tn, t);
    }
    for (const d of decls) {
      const info = declInfo(d);
      if (!info.name || info.fn) continue;
      const ff: FieldFact = { n: info.name, t, p: info.p };
      if (rcu) ff.rcu = 1;
      if (info.arr) ff.arr = 1;
      fields.push(ff);
    }
  }
}

/* ------------------------------------------------------------ top level */

function params(ctx: Ctx, fnDecl: Node | null): ParamFact[] {
  const out: ParamFact[] = [];
  const list = fnDecl?.childForFieldName('parameters');
  if (!list) return out;
  for (let i = 0; i < list.namedChildCount; i++) {
    const p = list.namedChild(i);
    if (!p || p.type !== 'parameter_declaration') continue;
    const info = declInfo(p.childForFieldName('declarator'));
    const t = typeText(p.childForFieldName('type'), ctx.text);
    if (!info.name && t === 'void' && info.p === 0) continue;
    out.push({ n: info.name ?? `$${out.length}`, t, p: info.p + (info.arr ? 1 : 0) });
  }
  return out;
}

function visitTop(ctx: Ctx, n: Node, fns: Node[]): void {
  for (let i = 0; i < n.namedChildCount; i++) {
    const c = n.namedChild(i);
    if (!c) continue;
    switch (c.type) {
      case 'function_definition':
        fns.push(c);
        break;
      case 'declaration':
      case 'type_definition':
        topDeclaration(ctx, c);
        break;
      case 'struct_specifier':
      case 'union_specifier': {
        const name = c.childForFieldName('name');
        if (name) structFact(ctx, c, typeText(c, ctx.text));
        break;
      }
      case 'expression_statement':
        topMacroCall(ctx, c);
        break;
      case 'preproc_if':
      case 'preproc_ifdef':
      case 'preproc_else':
      case 'preproc_elif':
      case 'preproc_elifdef':
      case 'linkage_specification':
      case 'declaration_list':
        visitTop(ctx, c, fns);
        break;
      default:
        break;
    }
  }
}

function topMacroCall(ctx: Ctx, st: Node): void {
  const call = st.namedChild(0);
  if (!call || call.type !== 'call_expression') return;
  const fn = call.childForFieldName('function');
  if (!fn || fn.type !== 'identifier') return;
  const t = DECL_MACROS[fn.text];
  if (!t) return;
  const args = call.childForFieldName('arguments');
  const first = args?.namedChild(0);
  if (first && first.type === 'identifier') ctx.facts.globals.push({ n: first.text, t, p: 0, line: lineOf(st) });
}

function scanInitializer(ctx: Ctx, n: Node, depth = 0): void {
  if (depth > 6) return;
  for (let i = 0; i < n.namedChildCount; i++) {
    const c = n.namedChild(i);
    if (!c) continue;
    if (c.type === 'initializer_pair') {
      const d = c.childForFieldName('designator') ?? c.namedChild(0);
      const v = c.childForFieldName('value');
      if (d && v) {
        if (d.type === 'field_designator' && v.type === 'identifier') ctx.facts.fptrs.push([d.text.replace(/^\./, ''), v.text]);
        else if (v.type === 'initializer_list') scanInitializer(ctx, v, depth + 1);
      }
    } else if (c.type === 'initializer_list') scanInitializer(ctx, c, depth + 1);
  }
}

function topDeclaration(ctx: Ctx, d: Node): void {
  const tn = d.childForFieldName('type');
  const isTypedef = d.type === 'type_definition';
  let t = typeText(tn, ctx.text);
  const decls = d.childrenForFieldName('declarator').filter((x): x is Node => x !== null);
  if (tn && (tn.type === 'struct_specifier' || tn.type === 'union_specifier') && tn.childForFieldName('body')) {
    if (!tn.childForFieldName('name')) {
      const first = decls.length ? declInfo(decls[0]!).name : null;
      t = `${tn.type === 'struct_specifier' ? 'struct' : 'union'} ${first ?? `anon${ctx.anonCounter++}`}`;
    }
    structFact(ctx, tn, t);
  }
  const original = ctx.text.slice(d.startIndex, d.endIndex);
  const isStatic = /^\s*static\b/.test(original);
  for (const decl of decls) {
    const info = declInfo(decl);
    if (!info.name) continue;
    if (isTypedef) {
      if (info.p === 0 && !info.fn) ctx.facts.typedefs[info.name] = t;
      continue;
    }
    if (info.fn) {
      ctx.facts.prototypes.push({ name: info.name, line: lineOf(d), ret: { t, p: info.p }, params: params(ctx, info.fn) });
      continue;
    }
    // `static LIST_HEAD(x);` parses as a declaration of `x` with type LIST_HEAD.
    const macroType = tn && tn.type === 'type_identifier' ? DECL_MACROS[tn.text] : undefined;
    const g: GlobalFact = { n: info.name, t: macroType ?? t, p: info.p, line: lineOf(d) };
    if (isStatic) g.static = 1;
    if (/\b__rcu\b/.test(original)) g.rcu = 1;
    ctx.facts.globals.push(g);
    if (decl.type === 'init_declarator') {
      const v = decl.childForFieldName('value');
      if (v && v.type === 'initializer_list') scanInitializer(ctx, v);
    }
  }
}

/* ------------------------------------------------------------ functions */

interface FnState {
  ctx: Ctx;
  fact: FunctionFact;
  held: string[];
  /** Guard locks released at the end of the enclosing compound statement. */
  guardStack: number[];
}

function heldCopy(s: FnState): string[] | undefined {
  return s.held.length ? s.held.slice() : undefined;
}

function removeHeld(s: FnState, k: string): void {
  const i = s.held.lastIndexOf(k);
  if (i >= 0) s.held.splice(i, 1);
}

function endsWithJump(n: Node): boolean {
  let last: Node | null = n;
  if (n.type === 'compound_statement') last = n.namedChildCount ? n.namedChild(n.namedChildCount - 1) : null;
  while (last && last.type === 'comment' && last.previousNamedSibling) last = last.previousNamedSibling;
  return !!last && (last.type === 'return_statement' || last.type === 'goto_statement' || last.type === 'break_statement' || last.type === 'continue_statement');
}

const COND_PARENTS = new Set(['if_statement', 'while_statement', 'do_statement', 'for_statement', 'conditional_expression']);

function argKeys(s: FnState, call: Node): string[] {
  const text = s.ctx.text;
  const args = call.childForFieldName('arguments');
  if (!args) return [];
  const split = splitArgs(text, args.startIndex);
  return split ? split.args.map(key) : [];
}

function calleeName(fn: Node | null): string {
  if (!fn) return '*';
  if (fn.type === 'identifier') return fn.text;
  if (fn.type === 'field_expression') {
    const f = fn.childForFieldName('field');
    return f ? `->${f.text}` : '*';
  }
  if (fn.type === 'parenthesized_expression') return calleeName(fn.namedChild(0));
  if (fn.type === 'pointer_expression') return calleeName(fn.childForFieldName('argument'));
  return '*';
}

/** The xarray's own spinlock (`xa_lock(&x->xa)`), not in the lock catalog: true = acquire. */
const XA_LOCKS: Record<string, boolean> = {
  xa_lock: true, xa_lock_irq: true, xa_lock_bh: true, xa_lock_irqsave: true,
  xa_unlock: false, xa_unlock_irq: false, xa_unlock_bh: false, xa_unlock_irqrestore: false,
};

function recordCall(s: FnState, call: Node, cond: boolean): void {
  const fnNode = call.childForFieldName('function');
  // guard(mutex)(&lock): the callee is itself a call `guard(T)`.
  if (fnNode && fnNode.type === 'call_expression') {
    const inner = fnNode.childForFieldName('function');
    if (inner && inner.text === 'guard') {
      const a = argKeys(s, call);
      const ty = fnNode.childForFieldName('arguments')?.namedChild(0)?.text ?? '';
      const k = ty === 'rcu' ? 'rcu' : a[0];
      if (k) {
        s.held.push(k);
        s.guardStack.push(s.held.length);
      }
    }
    return;
  }
  const c = calleeName(fnNode);
  if (s.fact.calls.length >= MAX_CALLS_PER_FUNCTION) return;
  const a = argKeys(s, call);
  const cf: CallFact = { c, l: lineOf(call), col: call.startPosition.column + 1, a };
  const h = heldCopy(s);
  if (h) cf.h = h;
  if (cond) cf.cond = 1;
  const parent = call.parent;
  if (parent) {
    if (parent.type === 'expression_statement') cf.ign = 1;
    else if (parent.type === 'cast_expression' && parent.parent?.type === 'expression_statement') cf.ign = 1;
    else if (parent.type === 'return_statement') cf.ret = 1;
    else if (parent.type === 'assignment_expression' && parent.childForFieldName('right')?.id === call.id) {
      const left = parent.childForFieldName('left');
      if (left) cf.s = key(s.ctx.text.slice(left.startIndex, left.endIndex));
      if (parent.parent?.type === 'parenthesized_expression' || cond) cf.cond = 1;
    } else if (parent.type === 'init_declarator') {
      const info = declInfo(parent.childForFieldName('declarator'));
      if (info.name) cf.s = info.name;
    }
  }
  s.fact.calls.push(cf);
  // Lock effects for the syntactic held-lock scan.
  if (c === 'rcu_read_lock' || c === 'rcu_read_lock_bh' || c === 'rcu_read_lock_sched' || c === 'srcu_read_lock') s.held.push('rcu');
  else if (c === 'rcu_read_unlock' || c === 'rcu_read_unlock_bh' || c === 'rcu_read_unlock_sched' || c === 'srcu_read_unlock') removeHeld(s, 'rcu');
  else if (s.ctx.cat.assertHeld.has(c) && a[0]) {
    if (!s.held.includes(a[0])) s.held.push(a[0]);
  } else if (XA_LOCKS[c] !== undefined && a[0]) {
    if (XA_LOCKS[c]) s.held.push(a[0]);
    else removeHeld(s, a[0]);
  } else {
    const op = s.ctx.cat.lockOps.get(c);
    if (op && op.lockArg >= 0 && op.kind !== 'rcu') {
      const k = a[op.lockArg];
      if (k) {
        if (op.op === 'acquire') s.held.push(k);
        else removeHeld(s, k);
      }
    }
  }
}

function recordIterator(s: FnState, w: Node): void {
  const text = s.ctx.text;
  const m = /^([A-Za-z_]\w*)\s*/.exec(text.slice(w.startIndex, w.startIndex + 80));
  if (!m || !/for_each/i.test(m[1]!)) return;
  const split = splitArgs(text, w.startIndex + m[0].length);
  if (!split) return;
  const cf: CallFact = { c: m[1]!, l: lineOf(w), col: w.startPosition.column + 1, a: split.args.map(key), it: 1 };
  const h = heldCopy(s);
  if (h) cf.h = h;
  s.fact.calls.push(cf);
}

function recordDeclaration(s: FnState, d: Node): void {
  const t = typeText(d.childForFieldName('type'), s.ctx.text);
  for (const decl of d.childrenForFieldName('declarator')) {
    if (!decl) continue;
    const info = declInfo(decl);
    if (info.name && !info.fn) s.fact.vars[info.name] = { t, p: info.p + (info.arr ? 1 : 0) };
  }
}

function recordStore(s: FnState, a: Node): void {
  const left = a.childForFieldName('left');
  const right = a.childForFieldName('right');
  if (!left || !right || s.fact.stores.length > 400) return;
  if (left.type !== 'field_expression' && left.type !== 'pointer_expression' && left.type !== 'subscript_expression') return;
  let v: string | null = null;
  if (right.type === 'identifier') v = right.text;
  else if (right.type === 'call_expression') v = `call:${calleeName(right.childForFieldName('function'))}`;
  else if (right.type === 'pointer_expression' && right.text.startsWith('&')) v = key(s.ctx.text.slice(right.startIndex, right.endIndex));
  if (v === null || v === 'NULL') return;
  s.fact.stores.push({ l: lineOf(a), to: key(s.ctx.text.slice(left.startIndex, left.endIndex)), v });
}

function walk(s: FnState, n: Node, cond: boolean): void {
  switch (n.type) {
    case 'call_expression': {
      // Arguments first (inner calls happen before the outer one).
      const args = n.childForFieldName('arguments');
      if (args) walk(s, args, false);
      recordCall(s, n, cond);
      return;
    }
    case 'declaration':
      recordDeclaration(s, n);
      break;
    case 'assignment_expression':
      recordStore(s, n);
      break;
    case 'return_statement': {
      const e = n.namedChild(0);
      if (e && e.type !== 'comment') s.fact.returns.push(key(s.ctx.text.slice(e.startIndex, e.endIndex)));
      break;
    }
    case 'compound_statement': {
      const mark = s.guardStack.length;
      for (let i = 0; i < n.namedChildCount; i++) {
        const c = n.namedChild(i);
        if (c) walk(s, c, false);
      }
      while (s.guardStack.length > mark) {
        const len = s.guardStack.pop()!;
        s.held.splice(len - 1, 1);
      }
      return;
    }
    case 'if_statement': {
      const orig = s.ctx.text.slice(n.startIndex, n.startIndex + 20);
      const condNode = n.childForFieldName('condition');
      const cons = n.childForFieldName('consequence');
      const alt = n.childForFieldName('alternative');
      if (/^scoped_(cond_)?guard/.test(orig) && condNode) {
        const split = splitArgs(s.ctx.text, n.startIndex + orig.indexOf('('));
        const ty = split?.args[0] ?? '';
        const lockArg = split ? (orig.startsWith('scoped_cond') ? split.args[2] : split.args[1]) : undefined;
        const k = ty === 'rcu' ? 'rcu' : lockArg ? key(lockArg) : undefined;
        if (k) s.held.push(k);
        if (cons) walk(s, cons, false);
        if (k) removeHeld(s, k);
        return;
      }
      if (condNode) walk(s, condNode, true);
      const before = s.held.slice();
      let after: string[] | null = null;
      if (cons) {
        walk(s, cons, false);
        if (!endsWithJump(cons)) after = s.held.slice();
      }
      if (alt) {
        s.held = before.slice();
        walk(s, alt, false);
        if (!endsWithJump(alt) && after === null) after = s.held.slice();
      } else if (after === null) after = before;
      s.held = after ?? before;
      return;
    }
    case 'while_statement': {
      recordIterator(s, n);
      const condNode = n.childForFieldName('condition');
      if (condNode && !/for_each/i.test(s.ctx.text.slice(n.startIndex, n.startIndex + 40))) walk(s, condNode, true);
      const body = n.childForFieldName('body');
      if (body) walk(s, body, false);
      return;
    }
    case 'unary_expression':
    case 'binary_expression': {
      const op = n.childForFieldName('operator')?.type;
      const c = cond || op === '!' || op === '&&' || op === '||' || op === '==' || op === '!=';
      for (let i = 0; i < n.namedChildCount; i++) {
        const ch = n.namedChild(i);
        if (ch) walk(s, ch, c);
      }
      return;
    }
    case 'conditional_expression': {
      const condNode = n.childForFieldName('condition');
      if (condNode) walk(s, condNode, true);
      const cons = n.childForFieldName('consequence');
      if (cons) walk(s, cons, false);
      const alt = n.childForFieldName('alternative');
      if (alt) walk(s, alt, false);
      return;
    }
    default:
      break;
  }
  for (let i = 0; i < n.namedChildCount; i++) {
    const c = n.namedChild(i);
    if (!c) continue;
    const isCond = COND_PARENTS.has(n.type) && n.childForFieldName('condition')?.id === c.id;
    walk(s, c, isCond || (cond && n.type === 'parenthesized_expression'));
  }
}

function functionFact(ctx: Ctx, fn: Node): FunctionFact | null {
  const name = functionName(fn);
  if (name === '<anonymous>') return null;
  const declarator = fn.childForFieldName('declarator');
  const info = declInfo(declarator);
  const head = ctx.text.slice(fn.startIndex, fn.childForFieldName('body')?.startIndex ?? fn.endIndex);
  const fact: FunctionFact = {
    name,
    line: lineOf(fn),
    endLine: fn.endPosition.row + 1,
    ret: { t: typeText(fn.childForFieldName('type'), ctx.text), p: info.p },
    params: params(ctx, info.fn),
    vars: {},
    calls: [],
    returns: [],
    stores: [],
  };
  if (/\bstatic\b/.test(head)) fact.static = 1;
  if (/\binline\b|__always_inline/.test(head)) fact.inline = 1;
  if (hasDamage(fn)) fact.damaged = 1;
  const body = fn.childForFieldName('body');
  if (body) {
    const s: FnState = { ctx, fact, held: [], guardStack: [] };
    const annotations = /__must_hold\s*\(([^)]*)\)/g;
    for (let m = annotations.exec(head); m; m = annotations.exec(head)) s.held.push(key(m[1]!));
    walk(s, body, false);
  }
  return fact;
}

let defaultCatalogIndex: CatalogIndex | undefined;

/** Extract the facts of one file (one parse). Never throws on bad input: a broken file yields fewer facts. */
export function extractFileFacts(parser: CParser, text: string, file: string): FileFacts {
  const facts: FileFacts = {
    version: FACTS_VERSION,
    file,
    structs: [],
    typedefs: {},
    globals: [],
    functions: [],
    prototypes: [],
    fptrs: [],
    typesafeCaches: [],
    stats: { functions: 0, damaged: 0, bytes: text.length },
  };
  const parsed = parseKernelC(parser, text);
  try {
    const ctx: Ctx = { text, cat: (defaultCatalogIndex ??= indexCatalog(builtinCatalog())), facts, anonCounter: 0 };
    const fns: Node[] = [];
    visitTop(ctx, parsed.tree.rootNode, fns);
    for (const fn of fns) {
      facts.stats.functions++;
      let f: FunctionFact | null = null;
      try {
        f = functionFact(ctx, fn);
      } catch {
        f = null;
      }
      if (f) {
        if (f.damaged) facts.stats.damaged++;
        facts.functions.push(f);
      }
    }
    if (text.includes('SLAB_TYPESAFE_BY_RCU')) {
      for (const f of facts.functions) {
        for (const c of f.calls) {
          if (!c.a.some((a) => a.includes('SLAB_TYPESAFE_BY_RCU'))) continue;
          if (/^kmem_cache_create/.test(c.c) && c.s) facts.typesafeCaches.push(c.s);
          else if (c.c === 'KMEM_CACHE' && c.a[0]) facts.typesafeCaches.push(`type:struct ${c.a[0].replace(/^struct/, '')}`);
        }
      }
    }
  } finally {
    parsed.dispose();
  }
  return facts;
}
