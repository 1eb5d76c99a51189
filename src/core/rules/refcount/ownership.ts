/**
 * Reference ownership dataflow (issue 3 §4), shared by `ref-leak` and
 * `use-after-put`. Per function, a bounded path-set walk over `buildCfg`
 * (walk.ts `walkPaths`) tracks the references the function holds:
 *
 * - obtained: a call whose result is a new reference (a learned `returnsRef`
 *   summary, `kobject_get`/`get_device` results), a get on an object
 *   (`kref_get(&obj->ref)`, a learned get wrapper), a get-unless-zero on its
 *   success branch, an out-parameter filled by a learned lookup (on success), an
 *   initial reference (`kref_init` on a local object);
 * - dropped without a trace: the NULL / IS_ERR branch of the result;
 * - released: put primitives, learned put wrappers, `kfree` of an initialised object;
 * - transferred: returned, stored (`x->f = obj`, `*out = obj`, a global), published
 *   (list_add, idr_alloc, xa_store, rcu_assign_pointer...), passed to a callee
 *   that stores it or hands it to code we cannot see (function pointers, a
 *   callee without a definition that is not a known non-consuming helper).
 *
 * Results are plain records; the rule files turn them into findings. The
 * analysis runs once per parsed file and is shared by both rules.
 */
import type { Node } from 'web-tree-sitter';
import type { CfgNode } from '../../cfg/build';
import { lockKey } from '../../analysis/lockid';
import type { FunctionFact } from '../../index/facts';
import { resolveCallee, resolveKey, summaryOf, type FunctionDef, type WorkspaceIndex } from '../../index/workspace';
import type { FunctionInfo, ParsedFile } from '../../parse/source';
import type { TraceStep } from '../../types';
import { callsOf, cfgOf, factOf, functionsOf, makeEnv, step, walkPaths, type CallSite, type Env, type RefcountRuleContext } from './walk';

/** One reference this function holds. */
export interface Unit {
  at: number;
  line: number;
  via: string;
}

interface Obj {
  units: Unit[];
  /** References someone else holds that keep the object alive for us (1: a parameter or a pointer we did not obtain). */
  base: number;
  /** Obtained as a call result: the NULL / error branch holds nothing. */
  nullable: boolean;
  /** Already stored or handed over on this path: a later get is the holder's reference (`ref->obj = base; kref_get(&base->ref)`). */
  esc?: true;
}

interface Pend {
  v: string;
  okWhen: 'nonzero' | 'zero';
  unit: Unit;
}

export interface PutMark {
  at: number;
  line: number;
  via: string;
  got?: Unit;
}

interface State {
  objs: Record<string, Obj>;
  names: Record<string, string>;
  pend: Record<string, Pend>;
  put: Record<string, PutMark>;
  /** Local flags assigned a constant on this path (`needs_unref = true`): branches on them are decided. */
  flags: Record<string, boolean>;
  /** Branch steps of this path (not part of the key). */
  trace: TraceStep[];
  ret?: { at: number; line: number };
}

export interface LeakRecord {
  fn: string;
  v: string;
  unit: Unit;
  exit: { at: number; line: number };
  trace: TraceStep[];
}

export interface UseRecord {
  fn: string;
  v: string;
  put: PutMark;
  use: { at: number; end: number; line: number; how: string };
  trace: TraceStep[];
}

export interface OwnershipResult {
  leaks: LeakRecord[];
  uses: UseRecord[];
}

/** Callees that never keep or free what they are given: printing, tracing, checks, locking. */
const NON_CONSUMING = new RegExp('^(pr_\\w+|printk\\w*|dev_(err|warn|info|dbg|notice|crit|alert|emerg|printk|vdbg)\\w*|drm_(dbg|err|warn|info|notice|printf|debug|WARN)\\w*'
  + '|DRM_\\w+|netdev_(err|warn|info|dbg)\\w*|WARN\\w*|BUG\\w*|trace_\\w+|seq_\\w+|snprintf|sprintf|scnprintf|dump_\\w+|memcpy|memset|memcmp|strcmp|strncmp|strlen'
  + '|sizeof|offsetof|IS_ERR|IS_ERR_OR_NULL|PTR_ERR|PTR_ERR_OR_ZERO|likely|unlikely|READ_ONCE|WRITE_ONCE|lockdep_\\w+|might_\\w+|list_empty\\w*|kref_read'
  + '|refcount_read|atomic_read|dma_resv_(assert_held|lock\\w*|unlock|trylock\\w*)|ww_mutex_\\w+|assert_\\w+|GEM_\\w+|i915_gem_object_(un)?lock\\w*'
  + '|drm_gem_object_(un)?lock\\w*|kunit_\\w+|KUNIT_\\w+|static_assert|BUILD_BUG\\w*|\\w+_assert_\\w+|\\w*_is_\\w+|is_\\w+|has_\\w+)$');

/**
 * Deferred work: `get(obj); if (!queue_work(wq, &hdcp->work)) put(obj);` hands the reference
 * to the work when it was queued. The work item is usually reached through another variable,
 * so a queued work takes every reference the path holds.
 */
const QUEUE = /^(queue_work|queue_work_on|queue_delayed_work|queue_delayed_work_on|mod_delayed_work|mod_delayed_work_on|schedule_work|schedule_delayed_work|kthread_queue_work|kthread_queue_delayed_work|kthread_mod_delayed_work|queue_rcu_work|irq_work_queue|tasklet_schedule|hrtimer_start|mod_timer|add_timer)$/;

/** Atomic stores: the argument index of the value stored. */
const STORES: Readonly<Record<string, number>> = {
  cmpxchg: 2, try_cmpxchg: 2, cmpxchg_relaxed: 2, cmpxchg_release: 2, xchg: 1, xchg_relaxed: 1, xchg_release: 1, WRITE_ONCE: 1, smp_store_release: 1,
  smp_store_mb: 1, atomic_long_set: 1, atomic_long_xchg: 1, atomic_long_cmpxchg: 2, unrcu_pointer: 0, rcu_replace_pointer: 1,
};

/** Calls that return the object they were given, referenced (`x->dev = get_device(dev)`). */
const GETTER = /^(\w+_get|get_\w+|\w+_ref|\w+_hold|\w+_reference)$/;

const CONVERTER = /^(container_of|container_of_const|to_[a-z0-9_]+|[a-z0-9_]+_to_[a-z0-9_]+)$/;

/** The variable an argument denotes as an object: `v`, `(T *)v`, `&v->a.b` (one arrow, then embedded fields). */
export function objVar(arg: string): string | null {
  const s = arg.trim().replace(/^\((?:const\s+)?(?:struct\s+)?\w+\s*\*+\s*\)\s*/, '');
  let m = /^\(?\s*([A-Za-z_]\w*)\s*\)?$/.exec(s);
  if (m) return m[1]!;
  m = /^&\s*\(?\s*([A-Za-z_]\w*)\s*\)?\s*->\s*\w+(?:\s*(?:\.\s*\w+|\[\s*\w+\s*\]))*$/.exec(s);
  return m ? m[1]! : null;
}

function stripNode(n: Node): Node {
  let cur = n;
  for (;;) {
    if (cur.type === 'parenthesized_expression' && cur.namedChildCount === 1) cur = cur.namedChild(0)!;
    else if (cur.type === 'cast_expression' && cur.childForFieldName('value')) cur = cur.childForFieldName('value')!;
    else return cur;
  }
}

/** What a node evaluates, gathered once per CFG node. */
interface NodeScan {
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

function scanNode(env: Env, cn: CfgNode): NodeScan {
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
function valueVar(n: Node | null): string | null {
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

const escapeMemo = new WeakMap<WorkspaceIndex, Map<string, boolean>>();

/** Does the definition keep parameter `pi` beyond the call (store, publish, return, hand to a callback or unseen code)? */
export function paramEscapes(env: Env, def: FunctionDef, pi: number, depth = 0): boolean {
  const index = env.index!;
  let memo = escapeMemo.get(index);
  if (!memo) escapeMemo.set(index, (memo = new Map()));
  const key = `${def.id}:${pi}`;
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
function paramDepth(index: WorkspaceIndex, file: string, name: string, i: number): number {
  const d = resolveCallee(index, file, name);
  const p = d ? d.fact.params[i] : index.prototypes.get(name)?.fact.params[i];
  return p ? p.p : 1;
}

/** `&x->a.b` names a part of x itself (every field embedded), not an object x points to. */
function embeddedPart(index: WorkspaceIndex, fact: FunctionFact, arg: string): boolean {
  const k = resolveKey(index, fact, lockKey(arg));
  return k.inRoot !== false && k.lastEmbedded !== false;
}

/**
 * `&x->a.refcount` is x's own lifetime counter: every field embedded, and (when the
 * index knows the type) the counter its type is refcounted by, not a usage count
 * (`refcount_inc(&gpu->sysprof_active)`).
 */
function lifetimeCounter(index: WorkspaceIndex, fact: FunctionFact, arg: string, objectArg: boolean): boolean {
  const k = resolveKey(index, fact, lockKey(arg));
  if (k.inRoot === false || k.lastEmbedded === false) return false;
  if (objectArg || !k.rootType || !index.structs.has(k.rootType)) return true;
  const rt = index.refcounted.get(k.rootType);
  return !rt || rt.field === k.path.join('.');
}

type ArgFate = 'put' | 'put-partial' | 'get' | 'get-stored' | 'cond-get' | 'transfer' | 'none';

const fateMemo = new WeakMap<Env, Map<string, ArgFate>>();

/** What a call does with the object passed as argument `i` (not counting primitives, handled before); memoised per file. */
function argFate(env: Env, c: CallSite, i: number): ArgFate {
  let m = fateMemo.get(env);
  if (!m) fateMemo.set(env, (m = new Map()));
  const k = `${c.name}\0${i}`;
  let f = m.get(k);
  if (f === undefined) m.set(k, (f = argFateOf(env, c, i)));
  return f;
}

function argFateOf(env: Env, c: CallSite, i: number): ArgFate {
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
  if (ps?.effect === 'get') return 'get';
  if (ps?.effect === 'get-stored') return 'get-stored';
  if (ps?.effect === 'cond-get') return 'cond-get';
  const d = resolveCallee(env.index, env.file, c.name);
  if (!d) return 'transfer';
  return paramEscapes(env, d, i) ? 'transfer' : 'none';
}

/* ------------------------------------------------------------ the walk */

function cloneState(s: State): State {
  const objs: Record<string, Obj> = {};
  for (const [k, o] of Object.entries(s.objs)) objs[k] = { ...o, units: [...o.units] };
  return { objs, names: { ...s.names }, pend: { ...s.pend }, put: { ...s.put }, flags: { ...s.flags }, trace: s.trace, ...(s.ret ? { ret: s.ret } : {}) };
}

function keyOf(s: State): string {
  return JSON.stringify([s.objs, s.names, s.pend, s.put, s.flags]);
}

const UNWRAP = /^(likely|unlikely|WARN_ON|WARN_ON_ONCE|WARN|WARN_ONCE|drm_WARN_ON|drm_WARN_ON_ONCE|GEM_WARN_ON)$/;

/** A branch atom about one variable: atom true <=> (`test` holds) === `pol`. */
interface Atom {
  v?: string;
  /** `a == b` between two pointers: on the edge where they are equal, either name may release the other's reference. */
  other?: string;
  test?: 'truthy' | 'err' | 'errnull' | 'same';
  call?: Node;
  pol: boolean;
}

function atomOf(n: Node, pol = true): Atom | null {
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
    if ((op === '==' || op === '!=') && ls.type === 'identifier' && rs.type === 'identifier' && !zero(rs)) {
      return { v: ls.text, other: rs.text, test: 'same', pol: op === '==' ? pol : !pol };
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
    const args = e.childForFieldName('arguments')?.namedChildren.filter((x): x is Node => x !== null && x.type !== 'comment') ?? [];
    if (/^[A-Z][A-Z0-9_]*$/.test(name) && args.length) {
      // condition-reporting macros: `XE_IOCTL_DBG(xe, !vm)`, `GEM_WARN_ON(!obj)`
      for (const a of [...args].reverse()) {
        const inner = atomOf(a, pol);
        if (inner?.v) return inner;
      }
    }
    const v = a0 ? stripNode(a0) : null;
    if ((name === 'IS_ERR' || name === 'PTR_ERR_OR_ZERO' || name === 'PTR_ERR') && v?.type === 'identifier') return { v: v.text, test: 'err', pol };
    if (name === 'IS_ERR_OR_NULL' && v?.type === 'identifier') return { v: v.text, test: 'errnull', pol };
    return { call: e, pol };
  }
  return null;
}

const resultMemo = new WeakMap<ParsedFile, Map<string, OwnershipResult>>();

/** Run (or reuse) the ownership analysis of every function of a parsed file. */
export function ownershipOf(parsed: ParsedFile, file: string, ctx: RefcountRuleContext): OwnershipResult {
  let perFile = resultMemo.get(parsed);
  if (!perFile) resultMemo.set(parsed, (perFile = new Map()));
  const mk = `${file}\0${ctx.index ? 'i' : '-'}`;
  const hit = perFile.get(mk);
  if (hit) return hit;
  const env = makeEnv(parsed, file, ctx);
  const res: OwnershipResult = { leaks: [], uses: [] };
  for (const fn of functionsOf(parsed)) {
    try {
      analyzeFunction(env, fn, res);
    } catch {
      // one odd function must not lose the file's other results
    }
  }
  perFile.set(mk, res);
  return res;
}

function declaredNames(body: Node): Set<string> {
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

function analyzeFunction(env: Env, fn: FunctionInfo, res: OwnershipResult): void {
  const body = fn.node.childForFieldName('body');
  if (!body) return;
  const cfg = cfgOf(env, fn);
  if (!cfg) return;
  const index = env.index;
  const params = paramNames(fn.node);
  const locals = declaredNames(body);
  const skip = new Set(cfg.cleanups.map((c) => c.variable));
  const self = index ? summaryOf(index, fn.name, env.file) : undefined;
  const selfGets = new Set((self?.params ?? []).filter((p) => p.effect === 'get' || p.effect === 'cond-get').map((p) => p.name));
  const isRelease = !!index?.releases.has(fn.name);
  const fact = index ? factOf(env, fn) : null;
  /** Local aliases of parameters through converters (`struct foo *f = to_foo(kref)`). */
  const paramAlias = new Map<string, string>();
  const scans = new Map<number, NodeScan>();
  const settled = new Set<number>();
  const leaks = new Map<number, LeakRecord>();
  const usesSeen = new Set<number>();

  /** Variables some call in the function takes a reference on (only they need `esc` bookkeeping). */
  const getTargets = new Set<string>();
  for (const cn of cfg.nodes) {
    let scan = scans.get(cn.id);
    if (!scan) scans.set(cn.id, (scan = scanNode(env, cn)));
    for (const c of scan.calls) {
      const op = env.rc.refOps.get(c.name);
      if (op && (op.effect === 'get' || op.effect === 'get-unless-zero')) {
        const v = c.args[op.counterArg] !== undefined ? objVar(c.args[op.counterArg]!) : null;
        if (v) getTargets.add(v);
      } else if (index && !op) {
        const sum = summaryOf(index, c.name, env.file);
        for (const p of sum?.params ?? []) {
          const v = p.effect === 'get' || p.effect === 'cond-get' ? objVar(c.args[p.index] ?? '') : null;
          if (v) getTargets.add(v);
        }
      }
    }
  }
  const iterVars = new Set<string>();
  /** Locals assigned fresh memory here (`kzalloc`, `kmem_cache_alloc`...). */
  const allocated = new Set<string>();
  const putLoops = new Map<string, Set<number>>();
  for (const cn of cfg.nodes) {
    for (const v of cn.kind === 'loopHead' ? cn.assigns ?? [] : []) iterVars.add(v);
    for (const c of scans.get(cn.id)?.calls ?? []) {
      if (!c.node) continue;
      if (env.rc.allocs.has(c.name)) {
        const t = assignedTo(c.node);
        if (t) allocated.add(t);
      }
      const op = env.rc.refOps.get(c.name);
      let v: string | null = null;
      if (op && (op.effect === 'put' || op.effect === 'put-release')) v = c.args[op.counterArg] !== undefined ? objVar(c.args[op.counterArg]!) : null;
      else if (index && !op) {
        const p = summaryOf(index, c.name, env.file)?.params.find((x) => x.effect === 'put');
        if (p) v = objVar(c.args[p.index] ?? '') ?? /^&\s*(\w+)$/.exec(c.args[p.index] ?? '')?.[1] ?? null;
      }
      const lp = v ? loopOf(c.node) : -1;
      if (v && lp >= 0) {
        let set = putLoops.get(v);
        if (!set) putLoops.set(v, (set = new Set()));
        set.add(lp);
      }
    }
  }
  const isParamish = (v: string) => params.includes(v) || paramAlias.has(v);
  const objOf = (s: State, v: string): Obj | undefined => {
    const id = s.names[v];
    return id ? s.objs[id] : undefined;
  };
  const ensure = (s: State, v: string, nullable: boolean): Obj => {
    let o = objOf(s, v);
    if (!o) {
      let n = Object.keys(s.objs).length;
      while (s.objs[`${v}#${n}`]) n++;
      const id = `${v}#${n}`;
      // a call's result is the only reference; a pointer we already had is kept alive by someone
      o = { units: [], base: nullable ? 0 : 1, nullable };
      s.objs[id] = o;
      s.names[v] = id;
    }
    return o;
  };
  const unlink = (s: State, v: string): void => {
    const id = s.names[v];
    delete s.names[v];
    delete s.put[v];
    delete s.pend[v];
    if (id && !Object.values(s.names).includes(id)) delete s.objs[id];
  };
  const acquire = (s: State, v: string, u: Unit, nullable: boolean, at?: Node | null): void => {
    if (skip.has(v) || iterVars.has(v)) return; // per-element references of an iterator loop are not one object
    if (!locals.has(v) && !params.includes(v)) return; // a global holds it
    if (at) {
      // collected in one loop, dropped in another (`list_move(&vma->link, &closed)`, then a put loop)
      const lp = loopOf(at);
      const pl = putLoops.get(v);
      if (lp >= 0 && pl && [...pl].some((x) => x !== lp)) return;
    }
    const pa = paramAlias.get(v) ?? (params.includes(v) ? v : null);
    if (pa && selfGets.has(pa)) return; // a get wrapper: the reference is the caller's
    if (!index && pa) return; // without summaries a get on a parameter may be the function's purpose
    const o = ensure(s, v, nullable);
    delete s.put[v];
    if (o.esc) {
      settled.add(u.at);
      return;
    }
    o.units.push(u);
  };
  const consumeAll = (s: State, v: string): void => {
    if (skip.has(v)) return;
    const o = objOf(s, v) ?? (getTargets.has(v) ? ensure(s, v, false) : undefined);
    if (!o) return;
    for (const u of o.units) settled.add(u.at);
    o.units = [];
    o.esc = true;
  };
  const release = (s: State, v: string, c: CallSite, tested: boolean): void => {
    if (skip.has(v)) return;
    const o = ensure(s, v, false);
    const u = o.units.pop();
    if (u) settled.add(u.at);
    const remaining = o.units.length + (u ? o.base : o.base - 1);
    // A put of a reference we did not take is the caller's only when unconditional:
    // `if (cancel_work(&g->work)) group_put(g)` drops the work's reference.
    const known = u !== undefined || (isParamish(v) && c.node !== null && topLevel(c.node, body));
    if (remaining <= 0 && known && !tested && !isRelease) s.put[v] = { at: c.start, line: c.line, via: c.name, ...(u ? { got: u } : {}) };
  };
  const pathStep = (s: State, t: TraceStep): void => {
    if (!Object.values(s.objs).some((o) => o.units.length) && !Object.keys(s.pend).length && !Object.keys(s.put).length) return;
    s.trace = [...s.trace.slice(-5), t];
  };

  walkPaths<State>(cfg, { objs: {}, names: {}, pend: {}, put: {}, flags: {}, trace: [] }, keyOf, (cn, s0, si) => {
    const s = cloneState(s0);
    let scan = scans.get(cn.id);
    if (!scan) scans.set(cn.id, (scan = scanNode(env, cn)));
    if (cn.kind === 'loopHead') for (const v of cn.assigns ?? []) unlink(s, v);
    if (cn.kind === 'return') s.ret = { at: cn.ast?.startIndex ?? fn.node.endIndex - 1, line: cn.line };
    if (cn.construct === 'goto' && cn.ast) pathStep(s, step(env, cn.ast.startIndex, `line ${cn.line}: ${env.text.slice(cn.ast.startIndex, cn.ast.endIndex).replace(/\s+/g, ' ')}`));

    // uses of objects already put on this path
    for (const [v, pm] of Object.entries(s0.put)) {
      for (const id of scan.idents) {
        if (id.text !== v || id.startIndex <= pm.at) continue;
        const how = useOf(env, id, scan.calls);
        if (!how || usesSeen.has(pm.at)) continue;
        usesSeen.add(pm.at);
        res.uses.push({ fn: fn.name, v, put: pm, use: { at: id.startIndex, end: id.endIndex, line: id.startPosition.row + 1, how }, trace: s.trace });
      }
    }

    // calls: gets, puts, transfers
    const branchAtom = cn.kind === 'branch' && cn.ast ? atomOf(cn.ast) : null;
    const branchCall = branchAtom?.call;
    for (const c of scan.calls) {
      if (!c.node) continue;
      const isAtom = branchCall !== undefined && branchCall.id === c.node.id;
      if (QUEUE.test(c.name) && (!isAtom || (si === 0) === branchAtom!.pol)) {
        for (const v of Object.keys(s.names)) if (objOf(s, v)?.units.length) consumeAll(s, v);
      }
      const tested = isAtom || isTestedCall(c.node);
      const target = assignedTo(c.node);
      const u: Unit = { at: c.start, line: c.line, via: c.name };
      if (target) unlink(s, target);
      const op = env.rc.refOps.get(c.name);
      if (op) {
        const ca = c.args[op.counterArg];
        const v = ca !== undefined && (!index || !fact || !ca.includes('->') || lifetimeCounter(index, fact, ca, !!op.objectArg)) ? objVar(ca) : null;
        if (op.effect === 'get' || op.effect === 'init') {
          // an initial reference is ours only on an object this function allocated (not an embedded kobject of a long-lived one)
          if (op.effect === 'init' && (!v || !allocated.has(v))) continue;
          if (op.effect === 'init' && (c.name === 'atomic_set' || c.name.startsWith('refcount_set')) && c.args[1]?.trim() !== '1') continue;
          if (op.returnsObject && target) acquire(s, target, u, true, c.node);
          else if (v && !op.onlyIfRefLike) acquire(s, v, u, false, c.node);
        } else if (op.effect === 'get-unless-zero') {
          if (!v || op.onlyIfRefLike) continue;
          if (isAtom) {
            const atom = atomOf(cn.ast!);
            if ((si === 0) === (atom?.pol ?? true)) acquire(s, op.returnsObject && target ? target : v, u, false, c.node);
          } else if (target && !op.returnsObject) s.pend[target] = { v, okWhen: 'nonzero', unit: u };
          else if (target) acquire(s, target, u, true, c.node);
          else if (!tested) acquire(s, v, u, false, c.node);
        } else if ((op.effect === 'put' || op.effect === 'put-release' || op.effect === 'kill') && v && !op.onlyIfRefLike) {
          // refcount_dec/atomic_dec never free: not a last put
          const canFree = op.effect !== 'put' || op.objectArg === true || op.counterKind === 'percpu_ref';
          release(s, v, c, tested || !!target || !canFree);
        }
        continue;
      }
      if (env.rc.frees.has(c.name)) {
        const fo = env.rc.frees.get(c.name)!;
        const v = c.args[fo.objectArg] !== undefined ? objVar(c.args[fo.objectArg]!) : null;
        if (v && objOf(s, v)?.units.length) consumeAll(s, v);
        continue;
      }
      // a call returning a new reference
      if (target && index && !skip.has(target)) {
        const sum = summaryOf(index, c.name, env.file);
        const rd = sum?.returnsRef && sum.returnsRef !== 'alloc' ? resolveCallee(index, env.file, c.name) : undefined;
        if (rd && rd.fact.ret.p > 0) acquire(s, target, u, true, c.node);
      }
      // out-parameters filled with a reference
      if (index) {
        const sum = summaryOf(index, c.name, env.file);
        for (const oi of sum?.outRefs ?? []) {
          const m = /^&\s*([A-Za-z_]\w*)$/.exec(c.args[oi] ?? '');
          if (!m || skip.has(m[1]!)) continue;
          const d = resolveCallee(index, env.file, c.name);
          const okWhen = d && /^(bool|_Bool)$/.test(d.fact.ret.t) && d.fact.ret.p === 0 ? 'nonzero' : 'zero';
          if (d && d.fact.ret.p > 0) acquire(s, m[1]!, u, true);
          else if (target) s.pend[target] = { v: m[1]!, okWhen, unit: u };
          else if (isAtom) {
            const atom = atomOf(cn.ast!);
            const atomTrue = si === 0;
            const nonzero = atomTrue === (atom?.pol ?? true);
            if (nonzero === (okWhen === 'nonzero')) acquire(s, m[1]!, u, false);
          } else if (!tested) acquire(s, m[1]!, u, false);
        }
      }
      // what happens to tracked objects passed as arguments
      c.args.forEach((a, i) => {
        const depth = index ? paramDepth(index, env.file, c.name, i) : 1;
        const addr = /^&\s*([A-Za-z_]\w*)$/.exec(a.trim());
        if (addr) delete s.flags[addr[1]!];
        if (addr && !NON_CONSUMING.test(c.name)) delete s.put[addr[1]!]; // `get_msg(ring, &fence)` may store a new pointer
        if (addr && depth >= 2 && !skip.has(addr[1]!)) {
          // `amdgpu_bo_unref(&bo)`: the callee acts on `*(&bo)` (and usually clears it)
          const fate = argFate(env, c, i);
          if (fate === 'put' || fate === 'put-partial') release(s, addr[1]!, c, true);
          else if (!summaryOf(index!, c.name, env.file)?.outRefs?.includes(i)) consumeAll(s, addr[1]!); // `nvkm_cgrp_ectx_put(cgrp, &ectx)`
          return;
        }
        if (addr && objOf(s, addr[1]!)?.units.length && !(index && summaryOf(index, c.name, env.file)?.outRefs?.includes(i))) {
          if (!NON_CONSUMING.test(c.name)) consumeAll(s, addr[1]!);
          return;
        }
        if (depth >= 2) return; // `&x->field` to a `T **` parameter names the field, not x
        const v = objVar(a);
        if (!v || skip.has(v)) return;
        if (a.includes('->') && index && fact && !embeddedPart(index, fact, a)) return;
        const fate = argFate(env, c, i);
        if (fate === 'put' || fate === 'put-partial') release(s, v, c, fate === 'put-partial');
        else if (fate === 'get') {
          // `if (!i915_request_get_rcu(rq))`: a get that returns NULL on failure holds only on success
          if (!isAtom || (si === 0) === branchAtom!.pol) acquire(s, target ?? v, u, !!target, c.node); // `root_bo = amdgpu_bo_ref(&root->bo)`: the result carries it
        }
        else if (fate === 'get-stored') {
          // the callee keeps its own reference (`fb->obj[0] = obj` after a get): the object outlives our put
          const o = ensure(s, v, false);
          o.base++;
          delete s.put[v];
        }
        else if (fate === 'cond-get') {
          if (isAtom) {
            const atom = atomOf(cn.ast!);
            if ((si === 0) === (atom?.pol ?? true)) acquire(s, v, u, false);
          } else if (target) s.pend[target] = { v, okWhen: 'nonzero', unit: u };
        } else if (fate === 'transfer') consumeAll(s, v);
      });
    }

    // stores, aliases, reassignments
    for (const asg of scan.assigns) {
      if (asg.name) {
        const k = asg.right ? stripNode(asg.right).text : '';
        if (/^(true|false|0|1)$/.test(k) && !getTargets.has(asg.name)) s.flags[asg.name] = k === 'true' || k === '1';
        else delete s.flags[asg.name];
      }
      const rv = valueVar(asg.right);
      const rt = asg.right ? stripNode(asg.right) : null;
      const isCall = rt?.type === 'call_expression';
      const fromCall = isCall && !CONVERTER.test(rt.childForFieldName('function')?.text ?? '');
      if (asg.name && (locals.has(asg.name) || params.includes(asg.name))) {
        if (!fromCall) {
          // plain copy / converter alias
          if (rv && isCall && params.includes(rv) && !paramAlias.has(asg.name)) paramAlias.set(asg.name, rv);
          const id = rv ? s.names[rv] : undefined;
          if (asg.name !== rv) unlink(s, asg.name);
          if (id && rv && asg.name !== rv) s.names[asg.name] = id;
        }
        // `x = call(...)`: the call loop above already re-linked `x`
        continue;
      }
      if (rv && !skip.has(rv)) consumeAll(s, rv); // stored into a field, through a pointer, into a global
    }
    for (const v of scan.initList) consumeAll(s, v);
    for (const v of scan.mutated) delete s.flags[v];

    // returned
    if (cn.kind === 'return' && cn.ast) {
      const e = cn.ast.namedChildren.find((x) => x !== null && x.type !== 'comment') ?? null;
      const rv = valueVar(e);
      if (rv && objOf(s, rv)?.units.length) consumeAll(s, rv);
    }

    // branch outcomes
    if (cn.kind === 'branch' && cn.ast) {
      const atom = atomOf(cn.ast);
      if (atom?.v && atom.test === 'same') {
        if ((si === 0) === atom.pol) {
          // equal pointers: what one name holds the other may release; stop tracking both
          consumeAll(s, atom.v);
          consumeAll(s, atom.other!);
        }
      } else if (atom?.v) {
        const atomTrue = si === 0;
        const holds = atomTrue === atom.pol; // the test (truthy / is-error) holds on this edge
        const flag = s.flags[atom.v];
        if (atom.test === 'truthy' && flag !== undefined && flag !== holds) return null; // infeasible: the flag says otherwise
        const o = objOf(s, atom.v);
        if (o && o.units.length) {
          const none = atom.test === 'truthy' ? !holds : holds;
          if (none) {
            o.units = [];
            o.nullable = false;
          }
        }
        const p = s.pend[atom.v];
        if (p && atom.test === 'truthy') {
          delete s.pend[atom.v];
          if (holds === (p.okWhen === 'nonzero')) acquire(s, p.v, p.unit, false);
        }
      }
      {
        pathStep(s, step(env, cn.ast.startIndex, `branch at line ${cn.line}: \`${env.text.slice(cn.ast.startIndex, cn.ast.endIndex).replace(/\s+/g, ' ')}\` is ${si === 0 ? 'true' : 'false'}`));
      }
    }

    // leaving the function
    if (cn.succ[si] === cfg.exit) {
      const exit = s.ret ?? { at: fn.node.endIndex - 1, line: fn.node.endPosition.row + 1 };
      const retText = s.ret ? returnText(env, s.ret.at) : '';
      const lastBranch = [...s.trace].reverse().find((t) => t.message.startsWith('branch'))?.message ?? '';
      const errorReturn = /^(-\s*E[A-Z0-9]+|ERR_PTR\b|ERR_CAST\b|PTR_ERR\b|NULL$|false$|-1$)/.test(retText)
        || (/^\w+$/.test(retText) && new RegExp(`\`(${retText}|${retText} < 0|${retText} != 0|unlikely\\(${retText}\\)|IS_ERR\\(.*\\))\` is true`).test(lastBranch));
      for (const [v, id] of Object.entries(s.names)) {
        const o = s.objs[id];
        if (!o) continue;
        // a reference taken on a parameter and kept on a success return may be the function's contract
        // (`nfs_page_group_lock_subreq` returns with the subrequest locked and referenced)
        if (isParamish(v) && !errorReturn) continue;
        for (const u of o.units) {
          if (leaks.has(u.at)) continue;
          leaks.set(u.at, { fn: fn.name, v, unit: u, exit, trace: s.trace });
        }
      }
    }
    return s;
  });
  for (const l of leaks.values()) if (settled.has(l.unit.at)) res.leaks.push(l);
}

/** The expression of the return statement at `at` (`-EINVAL`, `ERR_PTR(ret)`), trimmed. */
function returnText(env: Env, at: number): string {
  const m = /^return\b\s*([^;]*);/.exec(env.text.slice(at, at + 200));
  return m ? m[1]!.trim().replace(/^\(+/, '') : '';
}

/** The innermost loop statement around a node (its id), or -1. */
function loopOf(n: Node): number {
  for (let a = n.parent; a; a = a.parent) {
    if (a.type === 'for_statement' || a.type === 'while_statement' || a.type === 'do_statement') return a.id;
    if (a.type === 'function_definition') return -1;
  }
  return -1;
}

/** The call's statement sits directly in the function body (runs on every path that reaches it). */
function topLevel(call: Node, body: Node): boolean {
  let n: Node | null = call;
  while (n && n.type !== 'expression_statement' && n.type !== 'declaration' && n.type !== 'return_statement') n = n.parent;
  return !!n?.parent && n.parent.id === body.id;
}

function paramNames(fn: Node): string[] {
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
function assignedTo(call: Node): string | null {
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

/** The call's value is tested or used in an expression (not an expression statement). */
function isTestedCall(call: Node): boolean {
  let n: Node = call;
  let p = n.parent;
  while (p && (p.type === 'parenthesized_expression' || p.type === 'cast_expression')) {
    n = p;
    p = p.parent;
  }
  return !!p && p.type !== 'expression_statement' && p.type !== 'assignment_expression' && p.type !== 'init_declarator' && p.type !== 'comma_expression';
}

/** Is this occurrence of a put object a use (dereference, field access, passing it on)? Returns how, or null. */
function useOf(env: Env, id: Node, calls: CallSite[]): string | null {
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

function consumingUse(env: Env, call: Node, calls: CallSite[]): boolean {
  const c = calls.find((x) => x.node?.id === call.id);
  const name = c?.name ?? call.childForFieldName('function')?.text ?? '';
  if (CONVERTER.test(name) || /read_?refcount|refcount_read|kref_read/.test(name)) return false;
  if (NON_CONSUMING.test(name) || env.rc.frees.has(name)) return /^(dma_resv_|ww_mutex_|i915_gem_object_(un)?lock|drm_gem_object_(un)?lock)/.test(name);
  const op = env.rc.refOps.get(name);
  if (op && op.effect !== 'get' && op.effect !== 'get-unless-zero') return false;
  if (env.index && summaryOf(env.index, name, env.file)?.params.some((x) => x.effect === 'put')) return false;
  return true;
}
