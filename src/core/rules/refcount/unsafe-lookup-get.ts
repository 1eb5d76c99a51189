/**
 * `unsafe-lookup-get`: a plain get (`kref_get`, `refcount_inc`, `atomic_inc` on a
 * refcount, `kobject_get`, a learned get wrapper) on a pointer found by a lookup
 * (idr_find, xa_load, list/hlist/hash iteration, rhashtable/radix/rb-tree
 * lookups, rcu_dereference, `container_of(head.next, ...)`, a learned lookup
 * helper) while the object's count can reach zero with the object still
 * findable. Decided from the type's lifecycle in the workspace index; no finding
 * when:
 * (a) the lookup structure holds its own reference, dropped only after
 *     unpublishing: a put after the removal in the unpublishing function (after
 *     `synchronize_rcu()` or from a `call_rcu()` callback when readers use RCU:
 *     Documentation/RCU/rcuref.rst listing C), or, for lock-protected lookups,
 *     a get in the publishing function; or
 * (b) the get is serialised against every final put by a lock the put side also
 *     holds (Documentation/core-api/kref.rst rule 3): each final put of the
 *     counter (kref_put*, *_dec_and_test, kobject_put, put wrappers through
 *     their callers) holds one of the locks held at the get, or takes it
 *     (`kref_put_mutex`/`kref_put_lock`/`*_dec_and_lock` with that lock).
 * A structure whose elements are unpublished by the release callback holds no
 * reference of its own (the seed's offset hash). Silent without an index, and
 * when no final put of the counter is known.
 */
import type { Finding, TraceStep } from '../../types';
import { makeFinding } from '../common';
import { lockKey } from '../../analysis/lockid';
import type { CallFact, FunctionFact } from '../../index/facts';
import { functionById, functionsInFile, keyClass, resolveCallee, resolveCalleeId, resolveKey, summaryOf, type FunctionDef, type LookupStructure, type WorkspaceIndex } from '../../index/workspace';
import { isConverter } from '../../index/wrappers';
import { lookupVia } from './get-unless-zero-outside-lookup';
import { atomOf } from './ownership-syntax';
import {
  anyName, assignedVar, assignedVars, calledNames, callsOf, cfgOf, factOf, functionsOf, lockEffects, lockWrapperEffects, locOf, wrapperLocks, makeEnv, plainCopy, refEffects, rootVar, step, walkRulePaths, type RuleInterest,
  type CallSite, type Env, type RefcountRule,
} from './walk';

export const UNSAFE_LOOKUP_GET = 'unsafe-lookup-get';

interface Found {
  via: string;
  at: number;
  /** Protection keys held at the lookup (`rcu` for the RCU read side). */
  prot: string[];
  /** Lookup structure id (index.lookups), when known. */
  structure: string | null;
  /**
   * Counters (classes) the path holds a reference on for this object, from a
   * get-unless-zero that succeeded or an earlier get: a get on one of them
   * cannot meet it at zero. Dropped by a put through the same name.
   */
  pinned?: string[];
}

interface State {
  held: Record<string, number[]>;
  found: Record<string, Found>;
}

/** A plain get on the object `v` with the counter class it touches. */
interface PlainGet {
  v: string;
  counter: string;
  via: string;
}

/** One final put of a counter class, as the index sees it. */
interface PutSite {
  fn: string;
  file: string;
  line: number;
  via: string;
  /** Lock classes held at the call (syntactic), plus the lock a `*_put_mutex`/`*_dec_and_lock` takes. */
  held: string[];
  /** The put is the body of a put wrapper for the counter: its callers decide. */
  wrapper?: FunctionDef;
  /** The function the put is in (a static one's callers decide too: uncoveredPuts). */
  def?: FunctionDef;
}

const ENTRY_CONVERTERS = /^(container_of|container_of_const|list_entry|hlist_entry|hlist_entry_safe|rb_entry|rb_entry_safe|list_entry_rcu|llist_entry)$/;
const NEXT_FIELD = /^(.*?)\.(next|prev|first|rb_node)$/;

/* ------------------------------------------------------------ lifecycle facts (memoised per index) */

interface Memo {
  puts: Map<string, PutSite[]>;
  /** finalPutCallers(). */
  putCallers?: FunctionDef[];
  holds: Map<string, string | null>;
  /** uncoveredPuts() by counter and locks. */
  covered: Map<string, PutSite[]>;
}

const memos = new WeakMap<WorkspaceIndex, Memo>();

function memoOf(index: WorkspaceIndex): Memo {
  let m = memos.get(index);
  if (!m) memos.set(index, (m = { puts: new Map(), holds: new Map(), covered: new Map() }));
  return m;
}

/**
 * Lock classes held at a call (put sites): those the facts saw held, and those a
 * lock wrapper called before it took and no wrapper dropped since, in text order
 * (`device_links_write_lock(); ... device_link_put_kref(link); device_links_write_unlock();`),
 * as the get side sees them (lockWrapperEffects).
 */
function heldClasses(index: WorkspaceIndex, fn: FunctionFact, c: CallFact, file: string): string[] {
  const out: string[] = [];
  for (const h of c.h ?? []) {
    if (h === 'rcu') continue;
    const cls = keyClass(index, fn, h) ?? h;
    if (!out.includes(cls)) out.push(cls);
  }
  const wrapped = new Set<string>();
  for (const k of fn.calls) {
    if (k === c) break;
    const w = wrapperLocks(index, index.cat, file, k.c);
    if (!w) continue;
    for (const cls of w.takes) wrapped.add(cls);
    for (const cls of w.drops) wrapped.delete(cls);
  }
  for (const cls of wrapped) if (!out.includes(cls)) out.push(cls);
  return out;
}

/** Counter class a refcount primitive call touches (`struct foo.ref`), or null. */
function counterOfCall(index: WorkspaceIndex, fn: FunctionFact | null, name: string, args: readonly string[]): string | null {
  const op = index.rc.refOps.get(name);
  if (!op) return null;
  const arg = args[op.counterArg];
  if (!arg) return null;
  const k = resolveKey(index, fn, lockKey(arg));
  const field = k.path[k.path.length - 1];
  if (!k.owner || !field) return null;
  const cls = `${k.owner}.${field}`;
  const rt = index.refcounted.get(k.owner);
  if (rt && (rt.field === field || rt.field.endsWith(`.${field}`))) return cls;
  if (op.counterKind === 'atomic' && index.atomicRefCounters.has(cls)) return cls;
  return null;
}

/** Put wrappers of a counter class (learned summaries with a `put` parameter on it), by function id. */
function putWrapperIds(index: WorkspaceIndex, counter: string): Set<string> {
  const out = new Set<string>();
  for (const s of index.summaries.values()) if (s.params.some((p) => p.effect === 'put' && p.counter === counter)) out.add(s.id);
  return out;
}

/** Lock classes held at a final put: heldClasses, plus the lock a `*_and_lock` put takes (`lockArg`). */
function putHeld(index: WorkspaceIndex, d: FunctionDef, c: CallFact, lockArg: number | undefined): string[] {
  const held = heldClasses(index, d.fact, c, d.file);
  const lk = lockArg !== undefined ? c.a[lockArg] : undefined;
  if (lk) held.push(keyClass(index, d.fact, lk) ?? lk);
  return held;
}

/** Every final put of a counter class in the workspace. */
function finalPuts(index: WorkspaceIndex, counter: string): PutSite[] {
  const memo = memoOf(index);
  const hit = memo.puts.get(counter);
  if (hit) return hit;
  const wrappers = putWrapperIds(index, counter);
  const out: PutSite[] = [];
  for (const d of finalPutCallers(index)) {
    for (const c of d.fact.calls) {
      const op = index.rc.refOps.get(c.c);
      if (!op || !isFinalPut(op)) continue;
      if (counterOfCall(index, d.fact, c.c, c.a) !== counter) continue;
      const held = putHeld(index, d, c, op.lockArg);
      out.push({ fn: d.fact.name, file: d.file, line: c.l, via: c.c, held, def: d, ...(wrappers.has(d.id) ? { wrapper: d } : {}) });
    }
  }
  memo.puts.set(counter, out);
  return out;
}

function isFinalPut(op: { effect: string; objectArg?: boolean }): boolean {
  return op.effect === 'put-release' || (op.effect === 'put' && !!op.objectArg);
}

/**
 * The functions calling a final-put primitive, in the order of `index.functions`
 * (by name as first defined, then file order, then text order). Found through
 * `index.callers`, not by iterating every definition: in a worker thread the
 * function facts are decoded on demand (index/lazy.ts), and a walk over all of
 * them decoded the whole tree's facts in every worker.
 */
function finalPutCallers(index: WorkspaceIndex): FunctionDef[] {
  const memo = memoOf(index);
  if (memo.putCallers) return memo.putCallers;
  const ids = new Set<string>();
  for (const [name, op] of index.rc.refOps) if (isFinalPut(op)) for (const id of index.callers.get(name) ?? []) ids.add(id);
  const defs: FunctionDef[] = [];
  for (const id of ids) {
    const d = findDef(index, id);
    if (d) defs.push(d);
  }
  const nameRank = new Map<string, number>();
  for (const n of index.functions.keys()) nameRank.set(n, nameRank.size);
  const fileRank = new Map(index.files.map((f, i) => [f, i]));
  const byText = (d: FunctionDef): number => d.fact.span?.[0] ?? d.fact.line;
  defs.sort((a, b) => (nameRank.get(a.fact.name) ?? 0) - (nameRank.get(b.fact.name) ?? 0)
    || (fileRank.get(a.file) ?? 0) - (fileRank.get(b.file) ?? 0) || byText(a) - byText(b));
  memo.putCallers = defs;
  return defs;
}

/**
 * The final puts of `counter` not serialised by one of `locks` (at most
 * MAX_UNCOVERED, in index order): primitive puts without them, or calls of a put
 * wrapper without them (wrappers and static functions followed through their callers,
 * three levels).
 * Empty when every final put holds one.
 */
function uncoveredPuts(index: WorkspaceIndex, counter: string, locks: readonly string[]): PutSite[] {
  const memo = memoOf(index);
  const key = `${counter}|${[...locks].sort().join(',')}`;
  const hit = memo.covered.get(key);
  if (hit) return hit;
  const wrappers = putWrapperIds(index, counter);
  const callSites = (w: FunctionDef, put: string): PutSite[] => {
    const out: PutSite[] = [];
    const via = wrappers.has(w.id) ? `${w.fact.name} (put wrapper)` : `${w.fact.name} (which calls ${put})`;
    for (const id of index.callers.get(w.fact.name) ?? []) {
      const d = findDef(index, id);
      if (!d) continue;
      if (resolveCalleeId(index, d.file, w.fact.name) !== w.id) continue;
      for (const c of d.fact.calls) {
        if (c.c !== w.fact.name) continue;
        out.push({ fn: d.fact.name, file: d.file, line: c.l, via, held: heldClasses(index, d.fact, c, d.file), def: d, ...(wrappers.has(d.id) ? { wrapper: d } : {}) });
      }
    }
    return out;
  };
  const seen = new Set<string>();
  const result: PutSite[] = [];
  const collect = (sites: PutSite[], depth: number): void => {
    for (const s of sites) {
      if (result.length >= MAX_UNCOVERED) return;
      if (s.held.some((h) => locks.includes(h))) continue;
      // A put wrapper's callers decide, and so do a static function's: its callers may hold
      // the lock around the call (`device_links_write_lock(); __device_links_no_driver(dev);`).
      const up = s.wrapper ?? (s.def?.fact.static ? s.def : undefined);
      if (up) {
        if (seen.has(up.id)) continue;
        seen.add(up.id);
        const callers = depth < 3 ? callSites(up, s.via.replace(/ \(.*$/, '')) : [];
        if (callers.length && s.wrapper) {
          collect(callers, depth + 1); // the wrapper's calls are the puts to show
          continue;
        }
        if (callers.length) {
          // a static function: covered when every call of it is; else its own put is the one to show
          const before = result.length;
          collect(callers, depth + 1);
          if (result.length === before) continue;
          result.length = before;
        }
      }
      result.push(s);
    }
  };
  collect(finalPuts(index, counter), 0);
  memo.covered.set(key, result);
  return result;
}

const MAX_UNCOVERED = 64;

/**
 * The uncovered final put to show: one in the get's own file when there is one
 * (the reader looks there first; a put wrapper's callers are many, and the first
 * MAX_UNCOVERED of them in index order are often in other drivers), else the first.
 */
function uncoveredPut(index: WorkspaceIndex, counter: string, locks: readonly string[], file: string): PutSite | null {
  const all = uncoveredPuts(index, counter, locks);
  if (!all.length) return null;
  return all.find((p) => p.file === file) ?? localUncoveredPut(index, counter, locks, file) ?? all[0]!;
}

/** An uncovered final put in `file`: a primitive put or a put wrapper's call, outside the wrappers themselves. */
function localUncoveredPut(index: WorkspaceIndex, counter: string, locks: readonly string[], file: string): PutSite | null {
  const wrappers = putWrapperIds(index, counter);
  for (const d of functionsInFile(index, file)) {
    if (wrappers.has(d.id)) continue;
    for (const c of d.fact.calls) {
      const op = index.rc.refOps.get(c.c);
      const isPut = op ? isFinalPut(op) && counterOfCall(index, d.fact, c.c, c.a) === counter
        : !c.c.startsWith('->') && wrappers.has(resolveCalleeId(index, d.file, c.c) ?? '');
      if (!isPut) continue;
      const held = putHeld(index, d, c, op?.lockArg);
      if (held.some((h) => locks.includes(h))) continue;
      return { fn: d.fact.name, file: d.file, line: c.l, via: op ? c.c : `${c.c} (put wrapper)`, held };
    }
  }
  return null;
}

function puttingCall(index: WorkspaceIndex, fn: FunctionDef, c: CallFact, counter: string): boolean {
  if (counterOfCall(index, fn.fact, c.c, c.a) === counter) {
    const op = index.rc.refOps.get(c.c)!;
    return op.effect === 'put-release' || op.effect === 'put';
  }
  if (c.c.startsWith('->')) return false;
  const s = summaryOf(index, c.c, fn.file);
  return !!s && s.params.some((p) => p.effect === 'put' && p.counter === counter);
}

function gettingCall(index: WorkspaceIndex, fn: FunctionDef, c: CallFact, counter: string): boolean {
  const op = index.rc.refOps.get(c.c);
  if (op) return (op.effect === 'get' || op.effect === 'init') && counterOfCall(index, fn.fact, c.c, c.a) === counter;
  if (c.c.startsWith('->')) return false;
  const s = summaryOf(index, c.c, fn.file);
  return !!s && (s.params.some((p) => (p.effect === 'get' || p.effect === 'get-stored') && p.counter === counter) || s.returnsRef === 'alloc');
}

/** Does `fn` (an RCU callback) put the counter, directly or through a put wrapper? */
function callbackPuts(index: WorkspaceIndex, from: FunctionDef, cb: string, counter: string): boolean {
  const d = resolveCallee(index, from.file, cb.replace(/^&/, ''));
  return !!d && d.fact.calls.some((c) => puttingCall(index, d, c, counter));
}

/**
 * A release callback unpublishes once the count is zero. An inline release (the
 * function that tests `*_dec_and_test` and frees) only does when its removal
 * comes after the test: `list_del(); if (atomic_dec_and_test()) kfree();` is
 * the structure dropping its own reference after unpublishing (rcuref.rst).
 */
function unpublishesAfterZero(index: WorkspaceIndex, name: string, file: string, via: readonly string[]): boolean {
  if (via.some((v) => !v.startsWith('inline:'))) return true;
  const d = resolveCallee(index, file, name);
  if (!d) return true;
  const put = d.fact.calls.find((c) => index.rc.refOps.get(c.c)?.effect === 'put-release');
  return !put || d.fact.calls.some((c) => c.l > put.l && index.rc.containerOps.get(c.c)?.op === 'remove');
}

/**
 * Why the lookup structure holds its own reference (a sentence for the trace),
 * or null. `lockReaders`: lock classes protecting the lookup (empty: RCU only).
 */
function structureHoldsRef(index: WorkspaceIndex, l: LookupStructure, counter: string, type: string, lockReaders: readonly string[]): string | null {
  const memo = memoOf(index);
  const key = `${l.id}|${counter}|${[...lockReaders].sort().join(',')}`;
  if (memo.holds.has(key)) return memo.holds.get(key)!;
  let why: string | null = null;
  // elements unpublished by their own release: the structure holds no reference (the seed's offset hash)
  const unpublishedByRelease = [...index.releases.values()].some((r) => r.types.includes(type) && r.unpublishes.includes(l.id) && unpublishesAfterZero(index, r.name, r.file, r.via));
  if (!unpublishedByRelease) {
    const sites = l.kind === 'rcu-pointer' ? [...l.unpublish, ...l.publish] : l.unpublish;
    for (const u of sites) {
      const d = resolveCallee(index, u.file, u.fn);
      if (!d || d.file !== u.file) continue;
      const lockOk = lockReaders.length > 0 && u.held.some((h) => lockReaders.includes(h));
      let grace = false;
      for (const c of d.fact.calls) {
        if (c.l < u.line) continue;
        const rop = index.rc.rcuOps.get(c.c);
        if (rop?.kind === 'synchronize_rcu') grace = true;
        if (rop?.kind === 'call_rcu' && rop.callbackArg !== undefined && c.a[rop.callbackArg] && callbackPuts(index, d, c.a[rop.callbackArg]!, counter)) {
          why = `${u.fn}() removes it from ${l.id} (${u.file}:${u.line}) and drops the structure's reference from an RCU callback (${c.c}, line ${c.l})`;
          break;
        }
        if ((lockOk || grace) && puttingCall(index, d, c, counter)) {
          why = `${u.fn}() removes it from ${l.id} (${u.file}:${u.line}) and drops the structure's reference ${grace ? 'after a grace period' : 'after the removal'} (${c.c}, line ${c.l})`;
          break;
        }
      }
      if (why) break;
      // the removal is a helper (`job_done()`: list_del under the lock); its caller drops the reference after the call
      for (const id of [...(index.callers.get(u.fn) ?? [])].slice(0, 16)) {
        const cd = findDef(index, id);
        if (!cd) continue;
        for (const call of cd.fact.calls) {
          if (call.c !== u.fn) continue;
          const lockOk2 = lockOk || (lockReaders.length > 0 && heldClasses(index, cd.fact, call, cd.file).some((h) => lockReaders.includes(h)));
          let grace2 = false;
          for (const c of cd.fact.calls) {
            if (c.l < call.l || c === call) continue;
            if (index.rc.rcuOps.get(c.c)?.kind === 'synchronize_rcu') grace2 = true;
            if ((lockOk2 || grace2) && puttingCall(index, cd, c, counter)) {
              why = `${cd.fact.name}() calls ${u.fn}(), which removes it from ${l.id} (${u.file}:${u.line}), and then drops the structure's reference (${c.c}, ${cd.file}:${c.l})`;
              break;
            }
          }
          if (why) break;
        }
        if (why) break;
      }
      if (why) break;
    }
    if (!why && lockReaders.length && l.kind !== 'rcu-pointer') {
      // lock-protected readers: a reference taken when publishing belongs to the structure
      for (const p of l.publish) {
        const d = resolveCallee(index, p.file, p.fn);
        if (!d || d.file !== p.file) continue;
        const g = d.fact.calls.find((c) => gettingCall(index, d, c, counter));
        if (g) {
          why = `${p.fn}() takes a reference (${g.c}, ${p.file}:${g.l}) when it publishes the object in ${l.id}`;
          break;
        }
      }
    }
  }
  memo.holds.set(key, why);
  return why;
}

/**
 * Evidence that an object of `type` can be found in `l` with its count already
 * zero (a sentence for the trace), or null when the index does not show it:
 * - a release callback unpublishes it from `l` (the count is zero by then: the
 *   seed's offset hash, kref.rst rule 3);
 * - readers use RCU only and the unpublishing function (or its caller, after the
 *   call) drops a reference right after the removal, with no grace period in
 *   between (rcuref.rst: listing A made lock-free).
 * Without such evidence an element may be kept alive by an owner the index does
 * not see (a state object holding the reference while it is listed): no finding.
 */
function findableAtZero(index: WorkspaceIndex, l: LookupStructure, counter: string, type: string, lockReaders: readonly string[]): TraceStep | null {
  for (const r of index.releases.values()) {
    if (r.types.includes(type) && r.unpublishes.includes(l.id) && unpublishesAfterZero(index, r.name, r.file, r.via)) {
      const site = l.unpublish.find((u) => u.fn === r.name);
      return { file: site?.file ?? r.file, line: site?.line ?? r.line, column: 1, message: `still findable at zero: the release ${r.name}() removes it from ${l.id} only once the count is zero` };
    }
  }
  if (lockReaders.length) return null;
  const sites = l.kind === 'rcu-pointer' ? [...l.unpublish, ...l.publish] : l.unpublish;
  const early = (d: FunctionDef, after: number): CallFact | null => {
    for (const c of d.fact.calls) {
      if (c.l < after) continue;
      const rop = index.rc.rcuOps.get(c.c);
      if (rop && (rop.kind === 'synchronize_rcu' || rop.kind === 'call_rcu')) return null;
      if (puttingCall(index, d, c, counter)) return c;
    }
    return null;
  };
  for (const u of sites.slice(0, 32)) {
    const d = resolveCallee(index, u.file, u.fn);
    if (!d || d.file !== u.file) continue;
    const c = early(d, u.line);
    if (c) return { file: u.file, line: u.line, column: 1, message: `still findable at zero: ${u.fn}() removes it from ${l.id} and drops a reference at once (${c.c}, line ${c.l}) while RCU readers may still hold the pointer` };
  }
  return null;
}

function findDef(index: WorkspaceIndex, id: string): FunctionDef | undefined {
  return functionById(index, id);
}

/* ------------------------------------------------------------ per function */

/** A call that is (or wraps) a get-unless-zero: `dma_fence_get_rcu()` inside a wrapper is no plain get. */
function isCondGet(index: WorkspaceIndex, file: string, name: string): boolean {
  const op = index.rc.refOps.get(name);
  if (op) return op.effect === 'get-unless-zero';
  const s = summaryOf(index, name, file);
  return !!s && (s.returnsRef === 'cond-get' || s.params.some((p) => p.effect === 'cond-get'));
}

const MAX_WRAPPER_CALLS = 4;

/**
 * The variable whose own object `arg` names: a counter reached without following
 * a pointer (`&obj->base.refcount`), or the object itself or an embedded part.
 */
function ownRoot(index: WorkspaceIndex, fact: FunctionFact | null, arg: string, counterArg: boolean): string | null {
  const k = resolveKey(index, fact, lockKey(arg));
  if (!k.root) return null;
  if (k.path.length === 0) return counterArg ? null : k.root;
  return k.inRoot === true && (counterArg || k.lastEmbedded === true) ? k.root : null;
}

/**
 * A plain get on a variable's own object, with the counter class, or null: a
 * get primitive on a counter reached without following a pointer
 * (`&obj->base.refcount`, not `&obj->timeline->kref`), or a small learned get
 * wrapper (`drm_gem_object_get(obj)`: a few calls, +1 on the parameter, not
 * through a get-unless-zero) on the object or an embedded part of it.
 */
function plainGet(env: Env, fact: FunctionFact | null, c: CallSite): PlainGet | null {
  const index = env.index!;
  const op = env.rc.refOps.get(c.name);
  if (op) {
    if (op.effect !== 'get' || op.counterKind === 'percpu_ref') return null;
    const arg = c.args[op.counterArg];
    const v = arg ? ownRoot(index, fact, arg, !op.objectArg) : null;
    const counter = v ? counterOfCall(index, fact, c.name, c.args) : null;
    return v && counter ? { v, counter, via: c.name } : null;
  }
  if (c.name.includes('->') || c.name.includes('.')) return null;
  const d = resolveCallee(index, env.file, c.name);
  const s = d ? index.summaries.get(d.id) : undefined;
  if (!d || !s || d.fact.calls.length > MAX_WRAPPER_CALLS) return null;
  const p = s.params.find((x) => x.effect === 'get' && x.counter);
  if (!p || isCondGet(index, d.file, p.via)) return null;
  const arg = c.args[p.index];
  const v = arg ? ownRoot(index, fact, arg, false) : null;
  return v ? { v, counter: p.counter!, via: `${c.name} (get wrapper)` } : null;
}

/** A get-unless-zero primitive on an object rooted in a variable, with the counter class it touches (plainGet's twin). */
function condGet(env: Env, fact: FunctionFact | null, c: CallSite): PlainGet | null {
  const index = env.index!;
  const op = env.rc.refOps.get(c.name);
  if (!op || op.effect !== 'get-unless-zero' || op.counterKind === 'percpu_ref') return null;
  const arg = c.args[op.counterArg];
  const v = arg ? ownRoot(index, fact, arg, true) : null;
  const counter = v ? counterOfCall(index, fact, c.name, c.args) : null;
  return v && counter ? { v, counter, via: c.name } : null;
}

/** Structure a lookup call reads, by class. */
function structureOfLookup(env: Env, fact: FunctionFact | null, c: CallSite): string | null {
  const index = env.index!;
  const cop = env.rc.containerOps.get(c.name);
  let head: string | undefined;
  if (cop) head = c.args[cop.headArg >= 0 ? cop.headArg : 0];
  else if (env.rc.rcuDereference.has(c.name)) head = c.args[0];
  if (head) return keyClass(index, fact, lockKey(head));
  // a learned lookup helper: the structure its own lookup reads
  const d = resolveCallee(index, env.file, c.name);
  if (!d) return null;
  for (const k of d.fact.calls) {
    const o = index.rc.containerOps.get(k.c);
    const h = o && (o.op === 'lookup' || o.op === 'iterate') ? k.a[o.container === 'list' && o.op === 'lookup' ? 0 : o.headArg] : index.rc.rcuDereference.has(k.c) ? k.a[0] : undefined;
    const id = h ? keyClass(index, d.fact, h) : null;
    if (id && index.lookups.has(id)) return id;
  }
  return null;
}

/** Held-lock keys of a lock a wrapper took: its class (the caller's spelling of the lock is not known). */
const WRAPPED = 'class:';

function protText(keys: string[], takenBy: ReadonlyMap<string, string>): string {
  return keys.map((k) => (k === 'rcu' ? 'rcu_read_lock' : k.startsWith(WRAPPED) ? `${k.slice(WRAPPED.length)} (taken by ${takenBy.get(k) ?? 'a lock wrapper'}())` : k)).join(', ') || 'nothing';
}

/** A finding needs an index and a plain get: a get primitive or a learned get wrapper (plainGet). */
export const unsafeLookupGetInterest: RuleInterest = (env, _fn, names) => {
  const index = env.index;
  return !!index && anyName(names, (n) => env.rc.refOps.get(n)?.effect === 'get' || !!summaryOf(index, n, env.file)?.params.some((p) => p.effect === 'get'));
};

export const unsafeLookupGet: RefcountRule = (parsed, file, ctx) => {
  const env = makeEnv(parsed, file, ctx);
  const index = env.index;
  if (!index) return [];
  const out: Finding[] = [];
  for (const fn of functionsOf(parsed)) {
    if (!unsafeLookupGetInterest(env, fn.name, calledNames(env, fn))) continue;
    const cfg = cfgOf(env, fn);
    if (!cfg) continue;
    const fact = factOf(env, fn);
    const cls = (k: string): string => (k === 'rcu' ? 'rcu' : k.startsWith(WRAPPED) ? k.slice(WRAPPED.length) : keyClass(index, fact, k) ?? k);
    const reported = new Set<number>();
    /** The wrapper that took each WRAPPED key (for the trace). */
    const takenBy = new Map<string, string>();
    walkRulePaths<State>(env, fn, UNSAFE_LOOKUP_GET, out, cfg, { held: {}, found: {} }, (s) => JSON.stringify(s), (cn, s, si) => {
      const calls = callsOf(env, cn);
      const held = { ...s.held };
      const found = { ...s.found };
      const pin = (v: string, counter: string): void => {
        const f = found[v];
        if (f && !f.pinned?.includes(counter)) found[v] = { ...f, pinned: [...(f.pinned ?? []), counter] };
      };
      // `if (!kref_get_unless_zero(&gw->refcount)) continue;`: past it the path holds a reference
      const atom = cn.kind === 'branch' && cn.ast ? atomOf(cn.ast) : null;
      if (atom?.call && (si === 0) === atom.pol) {
        const c = calls.find((x) => x.node?.id === atom.call!.id);
        const got = c ? condGet(env, fact, c) : null;
        if (got) pin(got.v, got.counter);
      }
      for (const c of calls) {
        if (!c.node) continue;
        // a put through a name gives back the reference it held (its aliases keep theirs)
        for (const e of refEffects(env, c)) {
          if (e.kind !== 'put' || !found[e.v]?.pinned) continue;
          const unpinned = { ...found[e.v]! };
          delete unpinned.pinned; // (no field, not an empty list: the same path state as never pinned)
          found[e.v] = unpinned;
        }
        if (reported.has(c.start)) continue;
        const g = plainGet(env, fact, c);
        const f = g ? found[g.v] : undefined;
        if (!g || !f) continue;
        // a reference already held on the same counter (batman-adv's `best = gw; kref_get(&best->refcount)`
        // after kref_get_unless_zero(&gw->refcount)): the count is not zero; this get pins it for the next
        if (f.pinned?.includes(g.counter)) continue;
        pin(g.v, g.counter);
        const heldNow = Object.keys(held);
        const inside = f.prot.some((k) => heldNow.includes(k));
        const lockClasses = heldNow.filter((k) => k !== 'rcu').map(cls);
        const type = g.counter.slice(0, g.counter.lastIndexOf('.'));
        const l = f.structure ? index.lookups.get(f.structure) : undefined;
        const readers = f.prot.filter((k) => k !== 'rcu' && heldNow.includes(k)).map(cls);
        if (!l || (inside && structureHoldsRef(index, l, g.counter, type, readers))) continue;
        const zero = findableAtZero(index, l, g.counter, type, readers);
        if (!zero) continue;
        const put = uncoveredPut(index, g.counter, lockClasses, file);
        if (!put) continue; // every final put is serialised by a lock held here (or none is known)
        reported.add(c.start);
        const lookupLine = locOf(env, f.at, f.at).line;
        const trace: TraceStep[] = [
          step(env, f.at, `lookup at line ${lookupLine}: ${g.v} comes from ${f.via}${f.structure ? ` (${f.structure})` : ''} under ${protText(f.prot, takenBy)}`),
          step(env, c.start, `get at line ${c.line}: ${g.via} on ${g.v} (${g.counter})${lockClasses.length ? ` holding ${lockClasses.join(', ')}` : ' holding no lock'}${inside ? '' : ' after the lookup\'s critical section ended'}`),
          { file: put.file, line: put.line, column: 1, message: `final put in ${put.fn}(): ${put.via} ${lockClasses.length ? `without ${lockClasses.join(' or ')}` : 'with no lock serialising it against the lookup'}; the count can reach zero while ${type} is still findable` },
          zero,
        ];
        const structure = f.structure ? `\`${f.structure}\`` : 'the lookup structure';
        out.push(makeFinding(UNSAFE_LOOKUP_GET, file, fn.name, locOf(env, c.start, c.end),
          `\`${c.name}\` takes a plain reference on \`${g.v}\`, found by ${f.via}, but ${structure} holds no reference of its own and the final put `
          + `(${put.fn}() at ${put.file}:${put.line}) is not serialised against this lookup by a lock held here: the get can resurrect an object `
          + 'whose release is already running (kref.rst rule 3). Use kref_get_unless_zero() inside the lookup\'s critical section, or kref_put_mutex()/kref_put_lock() with the lookup\'s lock.',
          trace));
      }
      // reassignments drop what we knew; copies and converters carry it
      const copy = plainCopy(cn);
      for (const v of assignedVars(cn)) delete found[v];
      if (copy && s.found[copy.from]) found[copy.to] = s.found[copy.from]!;
      const prot = Object.keys(held);
      if (cn.kind === 'loopHead') {
        const c = calls[0];
        const cop = c ? env.rc.containerOps.get(c.name) : undefined;
        const v = cn.assigns?.[0];
        if (c && v && cop && cop.op === 'iterate' && prot.length) {
          const head = c.args[cop.headArg];
          found[v] = { via: c.name, at: c.start, prot, structure: head ? keyClass(index, fact, lockKey(head)) : null };
        }
      } else {
        for (const c of calls) {
          if (!c.node) continue;
          const v = assignedVar(c.node);
          if (!v) continue;
          const src = c.args[0] ? rootVar(c.args[0]) : null;
          if ((ENTRY_CONVERTERS.test(c.name) || isConverter(index, file, c.name)) && c.args[0]) {
            const from = src ? s.found[src] ?? found[src] : undefined;
            const m = NEXT_FIELD.exec(lockKey(c.args[0]));
            if (from && src && lockKey(c.args[0]) === src) found[v] = from;
            else if (m && prot.length) {
              // `container_of(q.next, struct my_data, link)`: the first element of a list head
              const id = keyClass(index, fact, m[1]!);
              if (id && index.lookups.has(id)) found[v] = { via: `${c.name}(${c.args[0]})`, at: c.start, prot, structure: id };
            }
            continue;
          }
          const via = lookupVia(env, c);
          if (via && prot.length) found[v] = { via, at: c.start, prot, structure: structureOfLookup(env, fact, c) };
        }
      }
      // A release drops the key it names, else a held key of the same class (a lock
      // taken by a wrapper and released by the primitive, or the other way round).
      const release = (key: string): void => {
        const k = held[key] ? key : Object.keys(held).find((h) => h !== 'rcu' && cls(h) === cls(key));
        if (!k) return;
        const rest = held[k]!.slice(0, -1);
        if (rest.length) held[k] = rest;
        else delete held[k];
      };
      for (const e of lockEffects(env, cn, calls)) {
        if (e.op === 'acquire') held[e.key] = [...(held[e.key] ?? []), e.line];
        else release(e.key);
      }
      // `drm_vma_offset_lock_lookup(mgr)`: the seed's lookup runs under a lock a wrapper takes
      for (const e of lockWrapperEffects(env, calls)) {
        const key = WRAPPED + e.cls;
        if (e.op === 'acquire') {
          held[key] = [...(held[key] ?? []), e.line];
          takenBy.set(key, e.via);
        } else release(key);
      }
      return { held, found };
    });
  }
  return out;
};
