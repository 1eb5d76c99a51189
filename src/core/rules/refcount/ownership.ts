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
import type { SyntaxNode as Node } from '../../parse/syntax';
import { resolveCallee, summaryOf, type WorkspaceIndex } from '../../index/workspace';
import type { FunctionInfo, ParsedFile } from '../../parse/source';
import type { TraceStep } from '../../types';
import { cyclicNodes, type Cfg, type CfgNode } from '../../cfg/build';
import type { FunctionFact } from '../../index/facts';
import { initsFirstReference, putMayRelease } from '../../catalog/refcount';
import { anyName, calledNames, cfgOf, factOf, functionsOf, makeEnv, markIncomplete, step, walkPaths, type CallSite, type Env, type RefcountRuleContext, type RuleInterest } from './walk';
import {
  argFate, type ArgFate, assignedTo, atomOf, CONVERTER, declaredNames, isTestedCall, lifetimeCounter, loopOf, NON_CONSUMING, objVar, paramDepth,
  embeddedPart, handedOn, paramNames, QUEUE, returnText, scanNode, stripNode, topLevel, useOf, valueVar, type Atom, type NodeScan,
} from './ownership-syntax';

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
  /** `err = PTR_ERR_OR_ZERO(root)`: a test of `err` is an IS_ERR test of `root`. */
  errOf: Record<string, string>;
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

/* ------------------------------------------------------------ the walk */

function cloneState(s: State): State {
  const objs: Record<string, Obj> = {};
  for (const [k, o] of Object.entries(s.objs)) objs[k] = { ...o, units: [...o.units] };
  return { objs, names: { ...s.names }, pend: { ...s.pend }, put: { ...s.put }, flags: { ...s.flags }, errOf: { ...s.errOf }, trace: s.trace, ...(s.ret ? { ret: s.ret } : {}) };
}

function keyOf(s: State): string {
  return JSON.stringify([s.objs, s.names, s.pend, s.put, s.flags, s.errOf]);
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
    const uses = res.uses.length;
    const leaks = res.leaks.length;
    try {
      analyzeFunction(env, fn, res);
    } catch {
      // one odd function must not lose the file's other results, nor add half of its own
      res.uses.length = uses;
      res.leaks.length = leaks;
      markIncomplete(env, fn, 'ref-leak', 'error');
      markIncomplete(env, fn, 'use-after-put', 'error');
    }
  }
  perFile.set(mk, res);
  return res;
}

/**
 * Can the walk of this function record anything? Every leak needs an acquire and
 * every use-after-put a release, and both come only from a refcount primitive or
 * a callee with a learned effect (a get, put, conditional get, stored get, a new
 * reference returned or handed out through a parameter). A function that names
 * none of them is skipped before its CFG is built: most functions of a file that
 * uses refcounts at all. The filter of both ref-leak and use-after-put.
 */
export const ownershipInterest: RuleInterest = (env, _fn, names) => {
  const index = env.index;
  return anyName(names, (n) => {
    if (env.rc.refOps.has(n)) return true;
    const s = index ? summaryOf(index, n, env.file) : undefined;
    return !!s && (!!s.returnsRef || s.params.length > 0 || (s.outRefs?.length ?? 0) > 0);
  });
};

/*
 * The function being walked. Module level, like the normaliser's state, so that
 * the walk's step and helpers below are created once: as closures made anew for
 * every function, V8 recompiled the step (a 240-line function) some 20 times per
 * thread on drivers/gpu/drm. analyzeFunction is not reentrant; walkFunction
 * reads these, resetWalk drops them.
 */
let env!: Env;
let fn!: FunctionInfo;
let res!: OwnershipResult;
let body!: Node;
let cfg!: Cfg;
let index: WorkspaceIndex | undefined;
let params: string[] = [];
let locals = new Set<string>();
let skip = new Set<string>();
let selfGets = new Set<string>();
let isRelease = false;
let fact: FunctionFact | null = null;
/** Local aliases of parameters through converters (`struct foo *f = to_foo(kref)`). */
let paramAlias = new Map<string, string>();
let scans = new Map<number, NodeScan>();
let settled = new Set<number>();
let leaks = new Map<number, LeakRecord>();
let usesSeen = new Set<number>();
/** Variables some call in the function takes a reference on (only they need `esc` bookkeeping). */
let getTargets = new Set<string>();
let iterVars = new Set<string>();
/** Locals assigned fresh memory here (`kzalloc`, `kmem_cache_alloc`...). */
let allocated = new Set<string>();
let putLoops = new Map<string, Set<number>>();
/** Offsets of the put calls on each variable. */
let putSites = new Map<string, number[]>();
/**
 * Puts (by offset) after which some path shows the function still owns the
 * object's memory: it frees the object itself (`mISDN_unregister_device(
 * &card->dch.dev); ... kfree(card);`), or waits for a completion inside it that
 * the release signals (`kobject_put(&sdp->kobj); wait_for_completion(
 * &sdp->kobj_unregister);`). Such a put was not the object's last: its uses are
 * not reported.
 */
let ownedPuts = new Set<number>();
const COMPLETION_WAIT = /^wait_for_completion(_[a-z_]+)?$/;
let tests = new Map<string, number>();
let testedInCycle = new Set<string>();
/** The memo tables of the helpers below (cleared for each function). */
const MEMOS: Map<unknown, unknown>[] = [];

/** A function memoised on its argument for the walk of one function. */
function memo<K, V>(f: (k: K) => V): (k: K) => V {
  const m = new Map<K, V>();
  MEMOS.push(m as Map<unknown, unknown>);
  return (k: K): V => {
    if (m.has(k)) return m.get(k)!;
    const v = f(k);
    m.set(k, v);
    return v;
  };
}

function analyzeFunction(e: Env, f: FunctionInfo, r: OwnershipResult): void {
  const b = f.node.childForFieldName('body');
  if (!b) return;
  if (!ownershipInterest(e, f.name, calledNames(e, f))) return;
  const g = cfgOf(e, f);
  if (!g) return;
  env = e;
  fn = f;
  res = r;
  body = b;
  cfg = g;
  try {
    walkFunction();
  } finally {
    resetWalk();
  }
}

/** Forget the last function (its syntax nodes and tables): nothing of one file outlives its walk. */
function resetWalk(): void {
  for (const m of MEMOS) m.clear();
  uses.clear();
  atoms.clear();
  steps.clear();
  errEqs.clear();
  scans = new Map();
  leaks = new Map();
  getTargets = new Set();
  paramAlias = new Map();
  unpublishes = null;
}

function walkFunction(): void {
  for (const m of MEMOS) m.clear();
  uses.clear();
  atoms.clear();
  steps.clear();
  errEqs.clear();
  index = env.index;
  params = paramNames(fn.node);
  locals = declaredNames(body);
  skip = new Set(cfg.cleanups.map((c) => c.variable));
  const self = index ? summaryOf(index, fn.name, env.file) : undefined;
  selfGets = new Set((self?.params ?? []).filter((p) => p.effect === 'get' || p.effect === 'cond-get').map((p) => p.name));
  isRelease = !!index?.releases.has(fn.name);
  fact = index ? factOf(env, fn) : null;
  /** Local aliases of parameters through converters (`struct foo *f = to_foo(kref)`). */
  paramAlias = new Map<string, string>();
  scans = new Map<number, NodeScan>();
  unpublishes = null;
  settled = new Set<number>();
  leaks = new Map<number, LeakRecord>();
  usesSeen = new Set<number>();

  /** Variables some call in the function takes a reference on (only they need `esc` bookkeeping). */
  getTargets = new Set<string>();
  for (const cn of cfg.nodes) {
    let scan = scans.get(cn.id);
    if (!scan) scans.set(cn.id, (scan = scanNode(env, cn)));
    for (const c of scan.calls) {
      const op = env.rc.refOps.get(c.name);
      if (op && (op.effect === 'get' || op.effect === 'get-unless-zero' || op.effect === 'init')) {
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
  iterVars = new Set<string>();
  /** Locals assigned fresh memory here (`kzalloc`, `kmem_cache_alloc`...). */
  allocated = new Set<string>();
  putLoops = new Map<string, Set<number>>();
  /** Offsets of the put calls on each variable. */
  putSites = new Map<string, number[]>();
  ownedPuts = new Set<number>();
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
      if (v) putSites.set(v, [...(putSites.get(v) ?? []), c.start]);
      const lp = v ? loopOf(c.node) : -1;
      if (v && lp >= 0) {
        let set = putLoops.get(v);
        if (!set) putLoops.set(v, (set = new Set()));
        set.add(lp);
      }
    }
  }
  /*
   * Which flags can ever be read. A flag on `v` is read only where a branch tests `v`
   * (truthy), so keeping one that no later test reads only multiplies the states:
   * a constant assignment matters when some branch tests `v`; a flag set by a test
   * matters when another branch tests `v`, or the same one again around a cycle.
   * `errOf` matters for variables some branch tests.
   */
  tests = new Map<string, number>();
  testedInCycle = new Set<string>();
  const cyclic = cyclicNodes(cfg);
  for (const cn of cfg.nodes) {
    if (cn.kind !== 'branch') continue;
    const a = atomAt(cn);
    if (a?.v && a.test === 'truthy') {
      tests.set(a.v, (tests.get(a.v) ?? 0) + 1);
      if (cyclic.has(cn.id)) testedInCycle.add(a.v);
    }
    const e = cn.ast ? errEqAt(cn) : null;
    if (e) tests.set(e, (tests.get(e) ?? 0) + 1);
  }
  const usesBefore = res.uses.length;
  const stop = walkPaths<State>(cfg, { objs: {}, names: {}, pend: {}, put: {}, flags: {}, errOf: {}, trace: [] }, keyOf, transfer);
  if (stop) {
    // half a walk: neither its leaks nor its uses are findings (both rules read this walk)
    res.uses.length = usesBefore;
    markIncomplete(env, fn, 'ref-leak', stop);
    markIncomplete(env, fn, 'use-after-put', stop);
    return;
  }
  if (ownedPuts.size) {
    const kept = res.uses.slice(usesBefore).filter((u) => !ownedPuts.has(u.put.at));
    res.uses.length = usesBefore;
    res.uses.push(...kept);
  }
  for (const l of leaks.values()) if (settled.has(l.unit.at)) res.leaks.push(l);
}

const isParamish = (v: string) => params.includes(v) || paramAlias.has(v);

/**
 * Offsets where the function takes an object out of a structure: a container
 * removal naming it (`list_del(&v->node)`, `idr_remove(&idr, v->id)`), or NULL
 * stored into a slot its fields choose (`table[v->minor] = NULL`), by variable.
 */
let unpublishes: Map<string, number[]> | null = null;
function unpublishedBefore(v: string, at: number): boolean {
  if (!unpublishes) {
    unpublishes = new Map();
    const add = (name: string, off: number): void => {
      const l = unpublishes!.get(name);
      if (l) l.push(off);
      else unpublishes!.set(name, [off]);
    };
    for (const cn of cfg.nodes) {
      let scan = scans.get(cn.id);
      if (!scan) scans.set(cn.id, (scan = scanNode(env, cn)));
      for (const c of scan.calls) {
        if (env.rc.containerOps.get(c.name)?.op !== 'remove') continue;
        for (const a of c.args) {
          const m = /^&?\s*\(?\s*([A-Za-z_]\w*)\s*\)?\s*->/.exec(a.trim());
          if (m) add(m[1]!, c.start);
        }
      }
      for (const asg of scan.assigns) {
        if (!asg.left || asg.left.type !== 'subscript_expression' || !asg.right || !/^(NULL|0)$/.test(asg.right.text.trim())) continue;
        const index = asg.left.childForFieldName('index') ?? asg.left.namedChild(1);
        for (const m of (index?.text ?? '').matchAll(/\b([A-Za-z_]\w*)\s*->/g)) add(m[1]!, asg.left.startIndex);
      }
    }
  }
  return (unpublishes.get(v) ?? []).some((off) => off < at);
}
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
    const lp = loopAt(at);
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
  const known = u !== undefined || (isParamish(v) && c.node !== null && topAt(c.node));
  // (a put right after taking the object out of a structure may be the structure's reference, not
  // the last one we held: `dvb_minors[dvbdev->minor] = NULL; dvb_device_put(dvbdev);`, dvb_remove_device())
  if (remaining <= 0 && known && !tested && !isRelease && !unpublishedBefore(v, c.start)) s.put[v] = { at: c.start, line: c.line, via: c.name, ...(u ? { got: u } : {}) };
};
/*
 * Per-node syntax and callee knowledge, computed once: the walk visits a node
 * once per distinct state, and none of this depends on the state.
 */
const sumOf = memo((name: string) => (index ? summaryOf(index, name, env.file) : undefined));
const defOf = memo((name: string) => (index ? resolveCallee(index, env.file, name) : undefined));
const targetOf = memo((n: Node) => assignedTo(n));
const testedOf = memo((n: Node) => isTestedCall(n));
const handedOf = memo((n: Node) => handedOn(n));
const loopAt = memo((n: Node) => loopOf(n));
const topAt = memo((n: Node) => topLevel(n, body));
const objVarOf = memo((a: string) => objVar(a));
const addrOf = memo((a: string) => /^&\s*([A-Za-z_]\w*)$/.exec(a.trim())?.[1] ?? null);
const depthOf = memo((k: string) => {
  const z = k.indexOf('\0');
  return index ? paramDepth(index, env.file, k.slice(0, z), Number(k.slice(z + 1))) : 1;
});
const embeddedOf = memo((a: string) => !!index && !!fact && embeddedPart(index, fact, a));
const lifetimeOf = memo((k: string) => !!index && !!fact && lifetimeCounter(index, fact, k.slice(1), k[0] === '1'));
const asgOf = memo((asg: NodeScan['assigns'][number]) => {
  const rt = asg.right ? stripNode(asg.right) : null;
  const rtext = rt ? rt.text : '';
  const isCall = rt?.type === 'call_expression';
  return {
    rtext,
    er: rt ? /^(?:PTR_ERR_OR_ZERO|PTR_ERR|IS_ERR)\s*\(\s*([A-Za-z_]\w*)\s*\)$/.exec(rtext)?.[1] ?? null : null,
    rv: valueVar(asg.right),
    isCall,
    fromCall: isCall && !CONVERTER.test(rt.childForFieldName('function')?.text ?? ''),
  };
});
const returnVarOf = memo((n: Node) => valueVar(n.namedChildren.find((x) => x !== null && x.type !== 'comment') ?? null));
const uses = new Map<Node, string | null>();
const useAt = (id: Node, scan: NodeScan): string | null => {
  let how = uses.get(id);
  if (how === undefined) uses.set(id, (how = useOf(env, id, scan.calls)));
  return how;
};
const retTextAt = memo((at: number) => returnText(env, at));
const errorReturnOf = memo((k: string) => {
  const z = k.indexOf('\0');
  const retText = k.slice(0, z);
  const lastBranch = k.slice(z + 1);
  return /^(-\s*E[A-Z0-9]+|ERR_PTR\b|ERR_CAST\b|PTR_ERR\b|NULL$|false$|-1$)/.test(retText)
    || (/^\w+$/.test(retText) && new RegExp(`\`(${retText}|${retText} < 0|${retText} != 0|unlikely\\(${retText}\\)|IS_ERR\\(.*\\))\` is true`).test(lastBranch));
});
/**
 * What each argument of a call is, independent of the state: the variable whose
 * address it passes (`&x`), whether the callee gets a pointer to a pointer
 * there (`T **`: it acts on `*(&x)`), the object it denotes otherwise (`x`,
 * `&x->embedded`; null when it names another object or an unseen variable),
 * and what the callee does with it.
 */
const argsOf = memo((c: CallSite) => {
  const nonConsuming = NON_CONSUMING.test(c.name);
  return c.args.map((a, i) => {
    const depth = depthOf(`${c.name}\0${i}`);
    const addr = addrOf(a);
    const outRef = !!sumOf(c.name)?.outRefs?.includes(i);
    const deep = addr !== null && depth >= 2 && !skip.has(addr);
    let v: string | null = null;
    if (!deep && depth < 2) {
      v = objVarOf(a);
      if (v && (skip.has(v) || (a.includes('->') && index && fact && !embeddedOf(a)))) v = null;
    }
    const fate: ArgFate = deep || v ? argFate(env, c, i) : 'none';
    return { addr, deep, v, fate, outRef, nonConsuming };
  });
});
/* Per-node syntax, computed once (the walk visits a node once per distinct state). */
const atoms = new Map<number, Atom | null>();
const atomAt = (cn: CfgNode): Atom | null => {
  if (!cn.ast) return null;
  let a = atoms.get(cn.id);
  if (a === undefined) atoms.set(cn.id, (a = atomOf(cn.ast)));
  return a;
};
const steps = new Map<string, TraceStep>();
const stepAt = (cn: CfgNode, kind: 'goto' | 'true' | 'false'): TraceStep => {
  const k = `${cn.id}:${kind}`;
  let t = steps.get(k);
  if (!t) {
    const src = env.text.slice(cn.ast!.startIndex, cn.ast!.endIndex).replace(/\s+/g, ' ');
    t = step(env, cn.ast!.startIndex, kind === 'goto' ? `line ${cn.line}: ${src}` : `branch at line ${cn.line}: \`${src}\` is ${kind}`);
    steps.set(k, t);
  }
  return t;
};
const errEqs = new Map<number, string | null>();
const errEqAt = (cn: CfgNode): string | null => {
  let v = errEqs.get(cn.id);
  if (v === undefined) {
    v = /^(\w+)\s*==\s*-\s*E[A-Z0-9]+$/.exec(env.text.slice(cn.ast!.startIndex, cn.ast!.endIndex))?.[1] ?? null;
    errEqs.set(cn.id, v);
  }
  return v;
};
const constFlag = (v: string) => (tests.get(v) ?? 0) > 0;
const testFlag = (v: string) => (tests.get(v) ?? 0) > 1 || testedInCycle.has(v);
const pathStep = (s: State, t: TraceStep): void => {
  if (!Object.values(s.objs).some((o) => o.units.length) && !Object.keys(s.pend).length && !Object.keys(s.put).length) return;
  s.trace = [...s.trace.slice(-5), t];
};

/** One step of the walk: the state after node `cn` along its successor `si` (null: that edge is infeasible). */
function transfer(cn: CfgNode, s0: State, si: number): State | null {
  const s = cloneState(s0);
  let scan = scans.get(cn.id);
  if (!scan) scans.set(cn.id, (scan = scanNode(env, cn)));
  if (cn.kind === 'loopHead') for (const v of cn.assigns ?? []) unlink(s, v);
  if (cn.kind === 'return') s.ret = { at: cn.ast?.startIndex ?? fn.node.endIndex - 1, line: cn.line };
  if (cn.construct === 'goto' && cn.ast) pathStep(s, stepAt(cn, 'goto'));

  stepUses(s0, s, scan);
  stepCalls(cn, s, si, scan);
  stepAssigns(s, scan);
  // returned
  if (cn.kind === 'return' && cn.ast) {
    const rv = returnVarOf(cn.ast);
    if (rv && objOf(s, rv)?.units.length) consumeAll(s, rv);
  }

  if (!stepBranch(cn, s, si)) return null;
  stepExit(cn, s, si);
  return s;
}

/** Uses of objects already put on this path (use-after-put). */
function stepUses(s0: State, s: State, scan: NodeScan): void {
  // uses of objects already put on this path
  for (const [v, pm] of Object.entries(s0.put)) {
    for (const id of scan.idents) {
      if (id.text !== v || id.startIndex <= pm.at) continue;
      const how = useAt(id, scan);
      if (!how || usesSeen.has(pm.at)) continue;
      // `nfs_inode_remove_request(req); nfs_page_end_writeback(req); nfs_release_request(req);`:
      // a later put of the same object says the function still holds a reference
      if ((putSites.get(v) ?? []).some((at) => at > id.startIndex)) continue;
      usesSeen.add(pm.at);
      res.uses.push({ fn: fn.name, v, put: pm, use: { at: id.startIndex, end: id.endIndex, line: id.startPosition.row + 1, how }, trace: s.trace });
    }
  }

}

/** The node's calls: gets, puts, transfers. */
function stepCalls(cn: CfgNode, s: State, si: number, scan: NodeScan): void {
  // calls: gets, puts, transfers
  const branchAtom = cn.kind === 'branch' ? atomAt(cn) : null;
  const branchCall = branchAtom?.call;
  for (const c of scan.calls) {
    if (!c.node) continue;
    const isAtom = branchCall !== undefined && branchCall.id === c.node.id;
    // `if (!dma_fence_add_callback(f, &cb, fn)) return;`: registered (0) hands the reference to the callback
    if (c.name === 'dma_fence_add_callback' && isAtom && (si === 0) !== branchAtom!.pol) {
      for (const v of Object.keys(s.names)) if (objOf(s, v)?.units.length) consumeAll(s, v);
    }
    if (QUEUE.test(c.name) && (!isAtom || (si === 0) === branchAtom!.pol)) {
      for (const v of Object.keys(s.names)) if (objOf(s, v)?.units.length) consumeAll(s, v);
    }
    const tested = isAtom || testedOf(c.node);
    const target = targetOf(c.node);
    const u: Unit = { at: c.start, line: c.line, via: c.name };
    if (target) unlink(s, target);
    const op = env.rc.refOps.get(c.name);
    if (op) {
      const ca = c.args[op.counterArg];
      const v = ca !== undefined && (!index || !fact || !ca.includes('->') || lifetimeOf(`${op.objectArg ? 1 : 0}${ca}`)) ? objVarOf(ca) : null;
      if (op.effect === 'get' || op.effect === 'init') {
        // an initial reference is ours only on an object this function allocated (not an embedded kobject of a long-lived one)
        if (op.effect === 'init' && (!v || !allocated.has(v))) continue;
        if (op.effect === 'init' && !initsFirstReference(c.name, c.args)) continue;
        if (op.returnsObject && handedOf(c.node)) continue; // `bridge_init(get_device(&pdev->dev))`: the reference goes with the value
        if (op.returnsObject && target) acquire(s, target, u, true, c.node);
        else if (v && !op.onlyIfRefLike) acquire(s, v, u, false, c.node);
      } else if (op.effect === 'get-unless-zero') {
        if (!v || op.onlyIfRefLike) continue;
        if (isAtom) {
          const atom = atomAt(cn);
          if ((si === 0) === (atom?.pol ?? true)) acquire(s, op.returnsObject && target ? target : v, u, false, c.node);
        } else if (target && !op.returnsObject) s.pend[target] = { v, okWhen: 'nonzero', unit: u };
        else if (target) acquire(s, target, u, true, c.node);
        else if (!tested) acquire(s, v, u, false, c.node);
      } else if ((op.effect === 'put' || op.effect === 'put-release' || op.effect === 'kill') && v && !op.onlyIfRefLike) {
        // refcount_dec/atomic_dec never free: not a last put
        release(s, v, c, tested || !!target || !putMayRelease(op));
      }
      continue;
    }
    // a wait for a completion inside an object put on this path: its release signals it and does not free it
    const waited = COMPLETION_WAIT.test(c.name) ? /^&\s*(\w+)\s*->/.exec(c.args[0] ?? '')?.[1] : undefined;
    if (waited && s.put[waited]) ownedPuts.add(s.put[waited].at);
    if (env.rc.frees.has(c.name)) {
      const fo = env.rc.frees.get(c.name)!;
      const v = c.args[fo.objectArg] !== undefined ? objVarOf(c.args[fo.objectArg]!) : null;
      // freeing an object put on this path: the function owns its memory, the put was not its last
      if (v && s.put[v]) ownedPuts.add(s.put[v].at);
      if (v && objOf(s, v)?.units.length) consumeAll(s, v);
      continue;
    }
    // a call returning a new reference
    if (target && index && !skip.has(target)) {
      const sum = sumOf(c.name);
      const rd = sum?.returnsRef && sum.returnsRef !== 'alloc' ? defOf(c.name) : undefined;
      if (rd && rd.fact.ret.p > 0) acquire(s, target, u, true, c.node);
    }
    // out-parameters filled with a reference
    if (index) {
      const sum = sumOf(c.name);
      // out-parameter summaries are the least precise (a put through `*p_res` in a callee is not seen):
      // trust them for functions that say they look up or create (`foo_lookup(file, h, &obj)`)
      const outOk = /lookup|find|get|search|create|alloc|new|open|init/i.test(c.name);
      for (const oi of outOk ? sum?.outRefs ?? [] : []) {
        const m = /^&\s*([A-Za-z_]\w*)$/.exec(c.args[oi] ?? '');
        if (!m || skip.has(m[1]!)) continue;
        const d = defOf(c.name);
        const okWhen = d && /^(bool|_Bool)$/.test(d.fact.ret.t) && d.fact.ret.p === 0 ? 'nonzero' : 'zero';
        if (d && d.fact.ret.p > 0) acquire(s, m[1]!, u, true);
        else if (target) s.pend[target] = { v: m[1]!, okWhen, unit: u };
        else if (isAtom) {
          const atom = atomAt(cn);
          const atomTrue = si === 0;
          const nonzero = atomTrue === (atom?.pol ?? true);
          if (nonzero === (okWhen === 'nonzero')) acquire(s, m[1]!, u, false);
        } else if (!tested) acquire(s, m[1]!, u, false);
      }
    }
    // what happens to tracked objects passed as arguments
    for (const ai of argsOf(c)) {
      if (ai.addr) {
        delete s.flags[ai.addr];
        if (!ai.nonConsuming) delete s.put[ai.addr]; // `get_msg(ring, &fence)` may store a new pointer
      }
      if (ai.deep) {
        // `amdgpu_bo_unref(&bo)`: the callee acts on `*(&bo)` (and usually clears it)
        if (ai.fate === 'put' || ai.fate === 'put-partial') release(s, ai.addr!, c, true);
        else if (!ai.outRef) consumeAll(s, ai.addr!); // `nvkm_cgrp_ectx_put(cgrp, &ectx)`
        continue;
      }
      if (ai.addr && objOf(s, ai.addr)?.units.length && !(index && ai.outRef)) {
        if (!ai.nonConsuming) consumeAll(s, ai.addr);
        continue;
      }
      const v = ai.v;
      if (!v) continue;
      const fate = ai.fate;
      if (fate === 'put' || fate === 'put-partial') release(s, v, c, fate === 'put-partial');
      else if (fate === 'get') {
        // `if (!i915_request_get_rcu(rq))`: a get that returns NULL on failure holds only on success
        // `root_bo = amdgpu_bo_ref(&root->bo)`: a get that returns the object hands the reference to the result
        const returnsPtr = !!index && (defOf(c.name)?.fact.ret.p ?? 0) > 0;
        const into = target && returnsPtr ? target : null;
        if (returnsPtr && c.node && handedOf(c.node)) continue; // `kmb->kmb_dsi = kmb_dsi_init(dsi_pdev)`: stored with the value
        if (!isAtom || (si === 0) === branchAtom!.pol) acquire(s, into ?? v, u, !!into, c.node);
      }
      else if (fate === 'get-stored') {
        // the callee keeps its own reference (`fb->obj[0] = obj` after a get): the object outlives our put
        const o = ensure(s, v, false);
        o.base++;
        delete s.put[v];
      }
      else if (fate === 'cond-get') {
        if (isAtom) {
          const atom = atomAt(cn);
          if ((si === 0) === (atom?.pol ?? true)) acquire(s, v, u, false);
        } else if (target) s.pend[target] = { v, okWhen: 'nonzero', unit: u };
      } else if (fate === 'transfer') consumeAll(s, v);
    }
  }

}

/** Stores, aliases, reassignments. */
function stepAssigns(s: State, scan: NodeScan): void {
  // stores, aliases, reassignments
  for (const asg of scan.assigns) {
    const { rtext, er, rv, isCall, fromCall } = asgOf(asg);
    if (asg.name) {
      delete s.errOf[asg.name];
      if (er && constFlag(asg.name)) s.errOf[asg.name] = er;
      const k = constFlag(asg.name) ? rtext : '';
      if (/^(true|false|0|1)$/.test(k) && !getTargets.has(asg.name)) s.flags[asg.name] = k === 'true' || k === '1';
      else delete s.flags[asg.name];
    }
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

}

/** What the branch outcome on this edge tells; false when the edge is infeasible. */
function stepBranch(cn: CfgNode, s: State, si: number): boolean {
  // branch outcomes
  if (cn.kind === 'branch' && cn.ast) {
    const memoAtom = atomAt(cn);
    const atom = memoAtom ? { ...memoAtom } : null; // rewritten below for `err` tests
    const errEq = errEqAt(cn);
    if (errEq && s.errOf[errEq] && si === 0) {
      const o = objOf(s, s.errOf[errEq]!); // `err = PTR_ERR_OR_ZERO(root); if (err == -ENOENT)`: root is an error pointer
      if (o) o.units = [];
    }
    if (atom?.v && atom.test === 'same') {
      if ((si === 0) === atom.pol) {
        // equal pointers: what one name holds the other may release; stop tracking both
        consumeAll(s, atom.v);
        if (atom.other) consumeAll(s, atom.other);
      }
    } else if (atom?.v) {
      if (atom.test === 'truthy' && s.errOf[atom.v]) {
        atom.v = s.errOf[atom.v];
        atom.test = 'err';
      }
      const atomTrue = si === 0;
      const holds = atomTrue === atom.pol; // the test (truthy / is-error) holds on this edge
      const flag = s.flags[atom.v];
      if (atom.test === 'truthy' && flag !== undefined && flag !== holds) return false; // infeasible: the flag says otherwise
      if (atom.test === 'truthy' && testFlag(atom.v)) s.flags[atom.v] = holds; // `if (ret && trans) ... if (!ret)`: the same test decides the same way
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
      pathStep(s, stepAt(cn, si === 0 ? 'true' : 'false'));
    }
  }

  return true;
}

/** Leaving the function: references still held on a failure return leak. */
function stepExit(cn: CfgNode, s: State, si: number): void {
  // leaving the function
  if (cn.succ[si] === cfg.exit && Object.values(s.objs).some((o) => o.units.length)) {
    const exit = s.ret ?? { at: fn.node.endIndex - 1, line: fn.node.endPosition.row + 1 };
    const retText = s.ret ? retTextAt(s.ret.at) : '';
    const earlyVoidReturn = retText === '' && !!s.ret && env.text.startsWith('return', s.ret.at);
    const lastBranch = [...s.trace].reverse().find((t) => t.message.startsWith('branch'))?.message ?? '';
    const errorReturn = errorReturnOf(`${retText}\0${lastBranch}`);
    for (const [v, id] of Object.entries(s.names)) {
      const o = s.objs[id];
      if (!o) continue;
      // Only failure returns are reported: a success return that keeps a reference is, far more often
      // than not, a handoff the analysis cannot see (an RPC's release callback, the function's contract:
      // `nfs_page_group_lock_subreq` returns with the subrequest locked and referenced).
      if (!errorReturn && !(earlyVoidReturn && !isParamish(v))) continue;
      for (const u of o.units) {
        if (leaks.has(u.at)) continue;
        leaks.set(u.at, { fn: fn.name, v, unit: u, exit, trace: s.trace });
      }
    }
  }
}
