/**
 * Syntax and callee knowledge for the ownership dataflow (ownership.ts): which
 * variable an argument or value denotes, what a callee does with an object it is
 * given (learned summaries, stores, escapes), branch atoms about a variable,
 * and what counts as a use of a put object. Pure functions over the tree and the index.
 */
import type { SyntaxNode as Node } from '../../parse/syntax';
import type { CfgNode } from '../../cfg/build';
import { lockKey } from '../../analysis/lockid';
import type { FunctionFact } from '../../index/facts';
import { resolveCallee, resolveKey, summaryOf, type FunctionDef, type WorkspaceIndex } from '../../index/workspace';
import { callsOf, type CallSite, type Env } from './walk';
/** Callees that never keep or free what they are given: printing, tracing, checks, locking. */
export const NON_CONSUMING = new RegExp('^(pr_\\w+|printk\\w*|dev_(err|warn|info|dbg|notice|crit|alert|emerg|printk|vdbg)\\w*|drm_(dbg|err|warn|info|notice|printf|debug|WARN)\\w*'
  + '|DRM_\\w+|netdev_(err|warn|info|dbg)\\w*|WARN\\w*|BUG\\w*|trace_\\w+|seq_\\w+|snprintf|sprintf|scnprintf|dump_\\w+|memcpy|memset|memcmp|strcmp|strncmp|strlen'
  + '|sizeof|offsetof|IS_ERR|IS_ERR_OR_NULL|PTR_ERR|PTR_ERR_OR_ZERO|likely|unlikely|READ_ONCE|WRITE_ONCE|lockdep_\\w+|might_\\w+|list_empty\\w*|kref_read'
  + '|refcount_read|atomic_read|dma_resv_(assert_held|lock\\w*|unlock|trylock\\w*)|ww_mutex_\\w+|assert_\\w+|GEM_\\w+|i915_gem_object_(un)?lock\\w*'
  + '|drm_gem_object_(un)?lock\\w*|kunit_\\w+|KUNIT_\\w+|static_assert|BUILD_BUG\\w*|\\w+_assert_\\w+|\\w*_is_\\w+|is_\\w+|has_\\w+)$');

/**
 * Deferred work: `get(obj); if (!queue_work(wq, &hdcp->work)) put(obj);` hands the reference
 * to the work when it was queued. The work item is usually reached through another variable,
 * so a queued work takes every reference the path holds.
 */
export const QUEUE = /^(queue_work|queue_work_on|queue_delayed_work|queue_delayed_work_on|mod_delayed_work|mod_delayed_work_on|schedule_work|schedule_delayed_work|kthread_queue_work|kthread_queue_delayed_work|kthread_mod_delayed_work|queue_rcu_work|irq_work_queue|tasklet_schedule|hrtimer_start|mod_timer|add_timer)$/;

/** Atomic stores: the argument index of the value stored. */
export const STORES: Readonly<Record<string, number>> = {
  cmpxchg: 2, try_cmpxchg: 2, cmpxchg_relaxed: 2, cmpxchg_release: 2, xchg: 1, xchg_relaxed: 1, xchg_release: 1, WRITE_ONCE: 1, smp_store_release: 1,
  smp_store_mb: 1, atomic_long_set: 1, atomic_long_xchg: 1, atomic_long_cmpxchg: 2, unrcu_pointer: 0, rcu_replace_pointer: 1,
};

/** Calls that return the object they were given, referenced (`x->dev = get_device(dev)`). */
export const GETTER = /^(\w+_get|get_\w+|\w+_ref|\w+_hold|\w+_reference)$/;

export const CONVERTER = /^(container_of|container_of_const|to_[a-z0-9_]+|[a-z0-9_]+_to_[a-z0-9_]+)$/;

/** The variable an argument denotes as an object: `v`, `(T *)v`, `&v->a.b` (one arrow, then embedded fields). */
export function objVar(arg: string): string | null {
  const s = arg.trim().replace(/^\((?:const\s+)?(?:struct\s+)?\w+\s*\*+\s*\)\s*/, '');
  let m = /^\(?\s*([A-Za-z_]\w*)\s*\)?$/.exec(s);
  if (m) return m[1]!;
  m = /^&\s*\(?\s*([A-Za-z_]\w*)\s*\)?\s*->\s*\w+(?:\s*(?:\.\s*\w+|\[\s*\w+\s*\]))*$/.exec(s);
  return m ? m[1]! : null;
}

export function stripNode(n: Node): Node {
  let cur = n;
  for (;;) {
    if (cur.type === 'parenthesized_expression' && cur.namedChildCount === 1) cur = cur.namedChild(0)!;
    else if (cur.type === 'cast_expression' && cur.childForFieldName('value')) cur = cur.childForFieldName('value')!;
    else return cur;
  }
}

/** What a node evaluates, gathered once per CFG node. */
export interface NodeScan {
  calls: CallSite[];
  /** `left = right` with a plain `=` (and declarations `T *x = right`). */
  assigns: { left: Node | null; name: string | null; right: Node | null; decl: boolean }[];
  /** Identifiers in the node, with their offset (for uses after a put). */
  idents: Node[];
  /** Variables appearing inside an initializer list (`{ .obj = obj }`). */
  initList: string[];
  /** Variables changed other than by `=` (`x |= y`, `x++`). */
  mutated: string[];
}

export function scanNode(env: Env, cn: CfgNode): NodeScan {
  const calls = callsOf(env, cn);
  const out: NodeScan = { calls, assigns: [], idents: [], initList: [], mutated: [] };
  const ast = cn.ast;
  if (!ast || cn.kind === 'loopHead' || cn.kind === 'guardAcquire' || cn.kind === 'guardRelease' || cn.kind === 'cleanup') return out;
  const visit = (n: Node, inInit: boolean): void => {
    if (n.type === 'compound_statement' && n.id !== ast.id) return;
    if (n.type === 'identifier') {
      out.idents.push(n);
      if (inInit) out.initList.push(n.text);
      return;
    }
    if ((n.type === 'assignment_expression' && n.childForFieldName('operator')?.text !== '=') || n.type === 'update_expression') {
      const t = n.childForFieldName(n.type === 'update_expression' ? 'argument' : 'left');
      if (t?.type === 'identifier') out.mutated.push(t.text);
    }
    if (n.type === 'assignment_expression' && n.childForFieldName('operator')?.text === '=') {
      const l = n.childForFieldName('left');
      out.assigns.push({ left: l, name: l?.type === 'identifier' ? l.text : null, right: n.childForFieldName('right'), decl: false });
    }
    if (n.type === 'init_declarator') {
      let d = n.childForFieldName('declarator');
      while (d && (d.type === 'pointer_declarator' || d.type === 'attributed_declarator')) d = d.childForFieldName('declarator') ?? d.namedChild(0);
      out.assigns.push({ left: null, name: d?.type === 'identifier' ? d.text : null, right: n.childForFieldName('value'), decl: true });
    }
    const init = inInit || n.type === 'initializer_list' || n.type === 'compound_literal_expression';
    for (const c of n.namedChildren) if (c) visit(c, init);
  };
  visit(ast, false);
  return out;
}

/** The variable whose object a value expression denotes (`obj`, `(T *)obj`, `&obj->base`, `to_foo(obj)`). */
export function valueVar(n: Node | null): string | null {
  if (!n) return null;
  const e = stripNode(n);
  if (e.type === 'identifier') return e.text;
  if (e.type === 'pointer_expression' && e.child(0)?.type === '&') {
    const a = e.childForFieldName('argument');
    if (a?.type === 'field_expression') {
      let base: Node | null = a;
      let arrows = 0;
      while (base && base.type === 'field_expression') {
        if (base.child(1)?.type === '->') arrows++;
        base = base.childForFieldName('argument');
      }
      base = base ? stripNode(base) : null;
      if (base?.type === 'identifier' && arrows === 1) return base.text;
    }
    return null;
  }
  if (e.type === 'call_expression') {
    const f = e.childForFieldName('function');
    const a0 = e.childForFieldName('arguments')?.namedChild(0) ?? null;
    if (f?.type === 'identifier' && (CONVERTER.test(f.text) || GETTER.test(f.text))) return valueVar(a0);
  }
  if (e.type === 'conditional_expression') return valueVar(e.childForFieldName('consequence')) ?? valueVar(e.childForFieldName('alternative'));
  return null;
}

/* ------------------------------------------------------------ callee knowledge */

export const escapeMemo = new WeakMap<WorkspaceIndex, Map<string, boolean>>();

/** Does the definition keep parameter `pi` beyond the call (store, publish, return, hand to a callback or unseen code)? */
export function paramEscapes(env: Env, def: FunctionDef, pi: number, depth = 0): boolean {
  const index = env.index!;
  let memo = escapeMemo.get(index);
  if (!memo) escapeMemo.set(index, (memo = new Map()));
  // The depth is part of the key: the answer at depth 3 is the conservative cut-off, and a
  // memo without it made a later query's answer depend on which query came first (so, in a
  // worker thread, on which files it happened to be given before).
  const key = `${def.id}:${pi}:${depth}`;
  const known = memo.get(key);
  if (known !== undefined) return known;
  memo.set(key, false); // recursion: assume not (a cycle adds nothing new)
  const f = def.fact;
  const p = f.params[pi]?.n;
  let v = false;
  if (!p) v = true; // variadic / unnamed
  else if (f.stores.some((st) => st.v === p) || f.returns.includes(p)) v = true;
  else {
    for (const c of f.calls) {
      const idx = c.a.flatMap((a, j) => (a === p || a.startsWith(`${p}.`) ? [j] : []));
      if (!idx.length) continue;
      if (c.c.startsWith('->') || c.c === '*') { v = true; break; }
      const cop = env.rc.containerOps.get(c.c);
      if (cop) {
        if (cop.op === 'insert' && idx.includes(cop.elemArg)) { v = true; break; }
        continue;
      }
      const rcu = env.rc.rcuOps.get(c.c);
      if (rcu) { if (idx.includes(rcu.objectArg)) { v = true; break; } continue; }
      const fo = env.rc.frees.get(c.c);
      if (fo) { if (idx.includes(fo.objectArg)) { v = true; break; } continue; } // job_free(job): frees what it is given
      if (env.rc.refOps.has(c.c) || env.cat.lockOps.has(c.c) || NON_CONSUMING.test(c.c)) continue;
      const exact = idx.filter((j) => c.a[j] === p);
      if (!exact.length) continue;
      const s = summaryOf(index, c.c, def.file);
      if (s?.params.some((x) => exact.includes(x.index) && x.effect === 'put')) { v = true; break; }
      const cd = resolveCallee(index, def.file, c.c);
      if (!cd) { v = true; break; }
      if (cd.id === def.id) continue;
      if (depth >= 3 || exact.some((j) => paramEscapes(env, cd, j, depth + 1))) { v = true; break; }
    }
  }
  memo.set(key, v);
  return v;
}

/** Pointer depth of a callee's parameter (`T **` = 2), 1 when unknown. */
export function paramDepth(index: WorkspaceIndex, file: string, name: string, i: number): number {
  const d = resolveCallee(index, file, name);
  const p = d ? d.fact.params[i] : index.prototypes.get(name)?.fact.params[i];
  return p ? p.p : 1;
}

/** `&x->a.b` names a part of x itself (every field embedded), not an object x points to. */
export function embeddedPart(index: WorkspaceIndex, fact: FunctionFact, arg: string): boolean {
  const k = resolveKey(index, fact, lockKey(arg));
  return k.inRoot !== false && k.lastEmbedded !== false;
}

/**
 * `&x->a.refcount` is x's own lifetime counter: every field embedded, and (when the
 * index knows the type) the counter its type is refcounted by, not a usage count
 * (`refcount_inc(&gpu->sysprof_active)`).
 */
export function lifetimeCounter(index: WorkspaceIndex, fact: FunctionFact, arg: string, objectArg: boolean): boolean {
  const k = resolveKey(index, fact, lockKey(arg));
  if (k.inRoot === false || k.lastEmbedded === false) return false;
  if (objectArg || !k.rootType || !index.structs.has(k.rootType)) return true;
  const rt = index.refcounted.get(k.rootType);
  return !rt || rt.field === k.path.join('.');
}

export type ArgFate = 'put' | 'put-partial' | 'get' | 'get-stored' | 'cond-get' | 'transfer' | 'none';

export const fateMemo = new WeakMap<Env, Map<string, ArgFate>>();

/** What a call does with the object passed as argument `i` (not counting primitives, handled before); memoised per file. */
export function argFate(env: Env, c: CallSite, i: number): ArgFate {
  let m = fateMemo.get(env);
  if (!m) fateMemo.set(env, (m = new Map()));
  const k = `${c.name}\0${i}`;
  let f = m.get(k);
  if (f === undefined) m.set(k, (f = argFateOf(env, c, i)));
  return f;
}

export function argFateOf(env: Env, c: CallSite, i: number): ArgFate {
  if (c.name.includes('->') || c.name.includes('.') || c.name.startsWith('(') || c.name.startsWith('*')) return 'transfer'; // function pointer
  const cop = env.rc.containerOps.get(c.name);
  if (cop) return cop.op === 'insert' && cop.elemArg === i ? 'transfer' : 'none';
  const store = STORES[c.name];
  if (store !== undefined) return store === i ? 'transfer' : 'none';
  const rcu = env.rc.rcuOps.get(c.name);
  if (rcu) return rcu.objectArg === i || rcu.callbackArg === i ? 'transfer' : 'none';
  if (env.cat.lockOps.has(c.name) || NON_CONSUMING.test(c.name) || env.rc.rcuDereference.has(c.name) || env.rc.rcuAssign.has(c.name)) {
    return env.rc.rcuAssign.has(c.name) && i === 1 ? 'transfer' : 'none';
  }
  if (!env.index) return 'transfer';
  const s = summaryOf(env.index, c.name, env.file);
  const ps = s?.params.find((x) => x.index === i);
  if (ps?.effect === 'put') return ps.partial ? 'put-partial' : 'put';
  if (ps?.effect === 'get') return ps.partial ? 'none' : 'get'; // a get on some of the callee's paths: not known to be ours
  if (ps?.effect === 'get-stored') return 'get-stored';
  if (ps?.effect === 'cond-get') return 'cond-get';
  const d = resolveCallee(env.index, env.file, c.name);
  if (!d) return 'transfer';
  return paramEscapes(env, d, i) ? 'transfer' : 'none';
}

export const UNWRAP = /^(likely|unlikely|WARN_ON|WARN_ON_ONCE|WARN|WARN_ONCE|drm_WARN_ON|drm_WARN_ON_ONCE|GEM_WARN_ON)$/;

/** A branch atom about one variable: atom true <=> (`test` holds) === `pol`. */
export interface Atom {
  v?: string;
  /** `a == b` between two pointers: on the edge where they are equal, either name may release the other's reference. */
  other?: string;
  test?: 'truthy' | 'err' | 'errnull' | 'same';
  call?: Node;
  pol: boolean;
}

export function atomOf(n: Node, pol = true): Atom | null {
  const e = stripNode(n);
  if (e.type === 'assignment_expression') {
    const l = e.childForFieldName('left');
    if (l?.type === 'identifier') return { v: l.text, test: 'truthy', pol };
    return null;
  }
  if (e.type === 'unary_expression' && e.child(0)?.type === '!') {
    const a = e.childForFieldName('argument');
    return a ? atomOf(a, !pol) : null;
  }
  if (e.type === 'identifier') return { v: e.text, test: 'truthy', pol };
  if (e.type === 'binary_expression') {
    const op = e.childForFieldName('operator')?.type;
    let l = e.childForFieldName('left');
    let r = e.childForFieldName('right');
    if (!l || !r) return null;
    const zero = (x: Node) => /^(NULL|0|false)$/.test(x.text);
    if (zero(l)) [l, r] = [r, l];
    const ls = stripNode(l);
    const rs = stripNode(r);
    if ((op === '==' || op === '!=') && ls.type === 'identifier' && rs.type === 'call_expression' && /^ERR_PTR\b/.test(rs.text)) {
      return { v: ls.text, test: 'err', pol: op === '==' ? pol : !pol }; // `trans == ERR_PTR(-ENOENT)`
    }
    if ((op === '==' || op === '!=') && ls.type === 'identifier' && !zero(rs)
      && (rs.type === 'identifier' || rs.type === 'field_expression' || rs.type === 'subscript_expression')) {
      // `old == gang`, `mirror == fls->mirror_array[i]`: equal to another name or to a stored pointer
      return { v: ls.text, other: rs.type === 'identifier' ? rs.text : '', test: 'same', pol: op === '==' ? pol : !pol };
    }
    const inner = atomOf(l, pol);
    if (!inner || !zero(r)) return null;
    if (op === '==') return { ...inner, pol: !inner.pol };
    if (op === '!=' || op === '<') return inner;
    if (op === '>=') return { ...inner, pol: !inner.pol };
    return null;
  }
  if (e.type === 'call_expression') {
    const f = e.childForFieldName('function');
    const a0 = e.childForFieldName('arguments')?.namedChild(0) ?? null;
    const name = f?.type === 'identifier' ? f.text : '';
    if (UNWRAP.test(name) && a0) return atomOf(a0, pol);
    const v = a0 ? stripNode(a0) : null;
    if ((name === 'IS_ERR' || name === 'PTR_ERR_OR_ZERO' || name === 'PTR_ERR') && v?.type === 'identifier') return { v: v.text, test: 'err', pol };
    if (name === 'IS_ERR_OR_NULL' && v?.type === 'identifier') return { v: v.text, test: 'errnull', pol };
    const args = e.childForFieldName('arguments')?.namedChildren.filter((x): x is Node => x !== null && x.type !== 'comment') ?? [];
    if (/^[A-Z][A-Z0-9_]*$/.test(name) && args.length) {
      // condition-reporting macros: `XE_IOCTL_DBG(xe, !vm)`, `GEM_WARN_ON(!obj)`
      for (const a of [...args].reverse()) {
        const inner = atomOf(a, pol);
        if (inner?.v) return inner;
      }
    }
    return { call: e, pol };
  }
  return null;
}

export function declaredNames(body: Node): Set<string> {
  const out = new Set<string>();
  const visit = (n: Node): void => {
    if (n.type === 'declaration') {
      for (const d of n.namedChildren) {
        let x: Node | null = d;
        for (let i = 0; x && i < 6 && x.type !== 'identifier'; i++) x = x.childForFieldName('declarator');
        if (x?.type === 'identifier') out.add(x.text);
      }
    }
    for (const c of n.namedChildren) if (c) visit(c);
  };
  visit(body);
  return out;
}

/** The expression of the return statement at `at` (`-EINVAL`, `ERR_PTR(ret)`), trimmed. */
export function returnText(env: Env, at: number): string {
  const m = /^return\b\s*([^;]*);/.exec(env.text.slice(at, at + 200));
  return m ? m[1]!.trim().replace(/^\(+/, '') : '';
}

/** The innermost loop statement around a node (its id), or -1. */
export function loopOf(n: Node): number {
  for (let a = n.parent; a; a = a.parent) {
    if (a.type === 'for_statement' || a.type === 'while_statement' || a.type === 'do_statement') return a.id;
    if (a.type === 'function_definition') return -1;
  }
  return -1;
}

/** The call's statement sits directly in the function body (runs on every path that reaches it). */
export function topLevel(call: Node, body: Node): boolean {
  let n: Node | null = call;
  while (n && n.type !== 'expression_statement' && n.type !== 'declaration' && n.type !== 'return_statement') n = n.parent;
  return !!n?.parent && n.parent.id === body.id;
}

export function paramNames(fn: Node): string[] {
  const out: string[] = [];
  let d = fn.childForFieldName('declarator');
  while (d && d.type !== 'function_declarator') d = d.childForFieldName('declarator');
  const list = d?.childForFieldName('parameters');
  for (const p of list?.namedChildren ?? []) {
    let x: Node | null = p?.childForFieldName('declarator') ?? null;
    for (let i = 0; x && i < 6 && x.type !== 'identifier'; i++) x = x.childForFieldName('declarator');
    if (x?.type === 'identifier') out.push(x.text);
  }
  return out;
}

/** The variable a call's result is assigned to (`x = call()`, `T *x = call()`, through parentheses/casts). */
export function assignedTo(call: Node): string | null {
  let n: Node = call;
  let p = n.parent;
  while (p && (p.type === 'parenthesized_expression' || p.type === 'cast_expression')) {
    n = p;
    p = p.parent;
  }
  if (!p) return null;
  if (p.type === 'assignment_expression' && p.childForFieldName('right')?.id === n.id && p.childForFieldName('operator')?.text === '=') {
    const l = p.childForFieldName('left');
    return l?.type === 'identifier' ? l.text : null;
  }
  if (p.type === 'init_declarator' && p.childForFieldName('value')?.id === n.id) {
    let d = p.childForFieldName('declarator');
    while (d && d.type === 'pointer_declarator') d = d.childForFieldName('declarator');
    return d?.type === 'identifier' ? d.text : null;
  }
  return null;
}

/** The call's value is passed on: an argument of another call, stored into a field or through a pointer, returned. */
export function handedOn(call: Node): boolean {
  let n: Node = call;
  let p = n.parent;
  while (p && (p.type === 'parenthesized_expression' || p.type === 'cast_expression')) {
    n = p;
    p = p.parent;
  }
  if (!p) return false;
  if (p.type === 'argument_list' || p.type === 'return_statement') return true;
  return p.type === 'assignment_expression' && p.childForFieldName('right')?.id === n.id && p.childForFieldName('left')?.type !== 'identifier';
}

/** The call's value is tested or used in an expression (not an expression statement). */
export function isTestedCall(call: Node): boolean {
  let n: Node = call;
  let p = n.parent;
  while (p && (p.type === 'parenthesized_expression' || p.type === 'cast_expression')) {
    n = p;
    p = p.parent;
  }
  return !!p && p.type !== 'expression_statement' && p.type !== 'assignment_expression' && p.type !== 'init_declarator' && p.type !== 'comma_expression';
}

/** Is this occurrence of a put object a use (dereference, field access, passing it on)? Returns how, or null. */
export function useOf(env: Env, id: Node, calls: CallSite[]): string | null {
  const p = id.parent;
  if (!p) return null;
  for (let a: Node | null = p; a && a.type !== 'expression_statement' && a.type !== 'compound_statement'; a = a.parent) {
    if (a.type === 'sizeof_expression' || a.type === 'offsetof_expression' || a.type === 'alignof_expression') return null; // not evaluated
  }
  if (p.type === 'field_expression' && p.childForFieldName('argument')?.id === id.id && p.child(1)?.type === '->') {
    // `&v->lock` passed to a call is a use; `&v->x` compared is not
    let top: Node = p;
    while (top.parent?.type === 'field_expression') top = top.parent;
    const up = top.parent;
    if (up?.type === 'pointer_expression' && up.child(0)?.type === '&') {
      const call = up.parent?.type === 'argument_list' ? up.parent.parent : null;
      if (!call) return null;
      return consumingUse(env, call, calls) ? `passes \`${env.text.slice(up.startIndex, up.endIndex)}\`` : null;
    }
    if (up?.type === 'assignment_expression' && up.childForFieldName('left')?.id === top.id) return `writes \`${env.text.slice(top.startIndex, top.endIndex)}\``;
    return `reads \`${env.text.slice(top.startIndex, top.endIndex)}\``;
  }
  if (p.type === 'pointer_expression' && p.child(0)?.type === '*') return `dereferences \`${env.text.slice(p.startIndex, p.endIndex)}\``;
  if (p.type === 'subscript_expression' && p.childForFieldName('argument')?.id === id.id) return `indexes \`${env.text.slice(p.startIndex, p.endIndex)}\``;
  let q: Node | null = p;
  while (q && (q.type === 'parenthesized_expression' || q.type === 'cast_expression')) q = q.parent;
  if (q?.type === 'argument_list' && q.parent?.type === 'call_expression') {
    return consumingUse(env, q.parent, calls) ? `passes \`${id.text}\` to \`${q.parent.childForFieldName('function')?.text ?? '?'}\`` : null;
  }
  return null;
}

export function consumingUse(env: Env, call: Node, calls: CallSite[]): boolean {
  const c = calls.find((x) => x.node?.id === call.id);
  const name = c?.name ?? call.childForFieldName('function')?.text ?? '';
  if (CONVERTER.test(name) || /read_?refcount|refcount_read|kref_read/.test(name)) return false;
  if (NON_CONSUMING.test(name) || env.rc.frees.has(name)) return /^(dma_resv_|ww_mutex_|i915_gem_object_(un)?lock|drm_gem_object_(un)?lock)/.test(name);
  const op = env.rc.refOps.get(name);
  if (op && op.effect !== 'get' && op.effect !== 'get-unless-zero') return false;
  if (env.index && summaryOf(env.index, name, env.file)?.params.some((x) => x.effect === 'put')) return false;
  return true;
}
