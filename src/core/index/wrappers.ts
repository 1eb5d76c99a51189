/**
 * Learned refcount summaries (issue 3 §3, the syntactic part): per function, the
 * effect on each pointer parameter's refcount and whether it returns a new
 * reference, learned bottom-up over the call graph from the catalog primitives
 * (catalog/refcount.ts) and the summaries of callees, with a worklist fixpoint
 * that terminates on recursion (each function is recomputed a bounded number of
 * times). Nothing is listed by hand: `drm_gem_object_get` is a get wrapper
 * because its body does `kref_get(&obj->refcount)`, and `i915_gem_object_put`
 * is a put wrapper because it calls `__drm_gem_object_put(&obj->base)`, itself
 * a put wrapper.
 *
 * The analysis is per function, not per path: gets and puts on a parameter are
 * counted along the body (a put under `if (obj)` counts as a put); a
 * get-unless-zero whose result is returned or tested makes a conditional get.
 */
import type { CallFact, FunctionFact } from './facts';
import type { FunctionDef, WorkspaceIndex } from './workspace';
import { resolveCallee, resolveCalleeId, resolveKey, type KeyInfo } from './workspace';
import { CallerIds, LazyFunctions, SLOT_SUMMARIZABLE, type ResultUse } from './lazy';
import { initsFirstReference, refLikeFieldName } from '../catalog/refcount';

/**
 * `get`: the caller receives a new reference on the parameter; `put`: the
 * caller's reference is consumed; `cond-get`: +1 only when the function's result
 * says so (get-unless-zero); `get-stored`: +1 but the reference is stored by the
 * function itself (list_add / idr_alloc / a field store of the parameter):
 * ownership moved to the structure, so callers see no effect.
 */
export type ParamEffect = 'get' | 'put' | 'cond-get' | 'get-stored' | 'none';
export type ReturnsRef = 'alloc' | 'get' | 'lookup-get' | 'cond-get';

export interface ParamSummary {
  index: number;
  name: string;
  effect: ParamEffect;
  /** Counter class touched (`struct drm_gem_object.refcount`) when known. */
  counter?: string;
  /** The primitive or wrapper that has the effect. */
  via: string;
  line: number;
  /**
   * A `put` that not every path may take: the function still uses the parameter
   * after its last put call, or it returns a status through several returns
   * (`goto err_put` ladders: `ttm_bo_init_reserved`, `i915_gem_object_mmap`), or
   * the put comes from a partial put wrapper. The caller's reference is consumed
   * only sometimes. On a `get`: every get runs on some paths only (behind a test
   * that is not a NULL check: `if (!timeout) { rvt_get_mr(mr); return -EBUSY; }`),
   * or comes from a partial get wrapper: the caller is not known to hold one.
   */
  partial?: boolean;
  /**
   * A `cond-get` that fails only with an error, never on a count found at zero:
   * the function initialises a count it finds at zero again (`if
   * (kref_get_unless_zero(&rng->ref)) goto skip_init; ... kref_init(&rng->ref);`,
   * hwrng_init), or its conditional get comes from such a callee. The reference is
   * still the caller's only when the call succeeds; ignoring the result is an
   * unchecked error, not an unchecked get-unless-zero.
   */
  errorOnly?: boolean;
}

export interface RefSummary {
  id: string;
  name: string;
  file: string;
  line: number;
  /** Only parameters with an effect are listed. */
  params: ParamSummary[];
  returnsRef?: ReturnsRef;
  returnsVia?: string;
  /** Release callback named by a kref_put-style call on a parameter. */
  release?: string;
  /** Parameters (pointer-to-pointer) through which a new reference is handed out (`*objp = obj`, `objs[i] = obj`). */
  outRefs?: number[];
  /**
   * With a conditional get on a parameter (not errorOnly): how the workspace's
   * calls of this name use the result, counted when the index is built.
   */
  resultUse?: ResultUse;
}

const CONVERTER_CALL = /^(container_of|container_of_const|to_[a-z0-9_]+|[a-z0-9_]+_to_[a-z0-9_]+)$/;
const LOOKUP_NAMES = /lookup|find|search|_get_next|idr_find|xa_load/;

interface Effect {
  param: number;
  kind: 'get' | 'put' | 'cond-get';
  /** A cond-get from a callee whose conditional get fails only with an error (ParamSummary.errorOnly). */
  errorOnly?: boolean;
  counter?: string;
  via: string;
  line: number;
  call: CallFact;
  /** The call's result (`i915_gem_object_get(obj)`) is stored into a field or through a pointer. */
  stored: boolean;
  partial?: boolean;
}

const converterMemo = new WeakMap<WorkspaceIndex, Map<string, boolean>>();

/**
 * A call that returns its first argument's enclosing object (`container_of`, or a
 * helper whose every return is `container_of(param, ...)` / another converter of
 * the parameter). `dma_buf_to_obj(buf)` returning `buf->priv` is not one.
 */
export function isConverter(index: WorkspaceIndex, file: string, name: string, depth = 0): boolean {
  if (/^container_of/.test(name)) return true;
  if (!CONVERTER_CALL.test(name)) return false;
  let memo = converterMemo.get(index);
  if (!memo) converterMemo.set(index, (memo = new Map()));
  const known = memo.get(name);
  if (known !== undefined) return known;
  const def = resolveCallee(index, file, name);
  let v: boolean;
  if (!def) v = true; // a macro named like a converter (`obj_to_fb(x)`, `to_i915(x)`): container_of in practice
  else {
    const p0 = def.fact.params[0]?.n;
    v = !!p0 && def.fact.returns.length > 0 && depth < 3 && def.fact.returns.every((r) => {
      const m = /^([A-Za-z_]\w*)\((\w+)[,)]/.exec(r);
      return !!m && m[2] === p0 && (/^container_of/.test(m[1]!) || isConverter(index, def.file, m[1]!, depth + 1));
    });
  }
  memo.set(name, v);
  return v;
}

function aliasesOf(index: WorkspaceIndex, file: string, fn: FunctionFact): Map<string, string> {
  const aliases = new Map<string, string>();
  for (const c of fn.calls) {
    if (!c.s || !/^[A-Za-z_]\w*$/.test(c.s) || !c.a[0] || !isConverter(index, file, c.c)) continue;
    const k = resolveKey(index, fn, c.a[0], aliases);
    if (k.param >= 0 && k.root) aliases.set(c.s, fn.params[k.param]!.n);
  }
  return aliases;
}

/** An atomic_t is a refcount when it is its type's counter, is used with dec_and_test/inc_not_zero, or is named *ref*. */
function isRefLikeCounter(index: WorkspaceIndex, owner: string | null, field: string | undefined): boolean {
  if (!field) return false;
  if (owner) {
    const rt = index.refcounted.get(owner);
    if (rt && rt.field === field) return true;
    if (index.atomicRefCounters.has(`${owner}.${field}`)) return true;
  }
  return /ref/i.test(field) && refLikeFieldName(field);
}

/** Effects of one call on the function's parameters and variables: [argKey, kind, counter, via]. */
interface CallEffect {
  key: string;
  kind: Effect['kind'];
  counter?: string;
  via: string;
  release?: string;
  /** The key is a counter field (`obj.refcount`) rather than the object (`obj`, `&obj->base`). */
  isCounter: boolean;
  partial?: boolean;
  errorOnly?: boolean;
}

function callEffects(index: WorkspaceIndex, def: FunctionDef, c: CallFact, summaries: Map<string, RefSummary>): CallEffect[] {
  const out: CallEffect[] = [];
  const op = index.rc.refOps.get(c.c);
  if (op) {
    const k = c.a[op.counterArg];
    if (!k) return out;
    let counter: string | undefined;
    if (!op.objectArg) {
      const r = resolveKey(index, def.fact, k);
      const field = r.path[r.path.length - 1];
      if (op.onlyIfRefLike && !isRefLikeCounter(index, r.owner, field)) return out;
      // Only the type's lifetime counter makes a get/put: pin counts, usage counts and
      // counters of nested anonymous parts (`obj->mm.pages_pin_count`) do not.
      if (r.owner && field && index.structs.has(r.owner)) {
        const rt = index.refcounted.get(r.owner);
        if (!rt || rt.field !== field) return out;
      }
      if (r.owner && field) counter = `${r.owner}.${field}`;
    }
    const kind = op.effect === 'get' ? 'get' : op.effect === 'get-unless-zero' ? 'cond-get' : op.effect === 'put' || op.effect === 'put-release' || op.effect === 'kill' ? 'put' : null;
    if (!kind) return out;
    const release = op.releaseArg !== undefined ? c.a[op.releaseArg]?.replace(/^&/, '') : undefined;
    out.push({ key: k, kind, ...(counter ? { counter } : {}), via: c.c, ...(release ? { release } : {}), isCounter: !op.objectArg });
    return out;
  }
  if (c.c.startsWith('->') || c.c === '*') return out;
  const callee = resolveCalleeId(index, def.file, c.c);
  if (!callee || callee === def.id) return out;
  const s = summaries.get(callee);
  if (!s) return out;
  for (const p of s.params) {
    const k = c.a[p.index];
    if (!k || p.effect === 'none' || p.effect === 'get-stored') continue;
    out.push({
      key: k, kind: p.effect, ...(p.counter ? { counter: p.counter } : {}), via: c.c, isCounter: false, ...(p.partial ? { partial: true } : {}),
      ...(p.errorOnly ? { errorOnly: true } : {}),
    });
  }
  return out;
}

/**
 * Does the key name the root variable's own object (so an effect on it is an
 * effect on the root)? A counter key must reach its counter field without
 * following a pointer (`obj->base.refcount`, not `state->fb->refcount`); an
 * object key must be the root itself or an embedded part (`obj`, `&obj->base`).
 */
function ownsObject(r: KeyInfo, isCounter: boolean): boolean {
  if (!r.root) return false;
  if (r.path.length === 0) return true;
  if (isCounter) return r.path.length === 1 || r.inRoot === true;
  return r.inRoot === true && r.lastEmbedded === true;
}

/** The function stores parameter `pi` into a lookup structure or another object's field. */
function storesParam(index: WorkspaceIndex, fn: FunctionFact, pi: number, aliases: Map<string, string>): boolean {
  const name = fn.params[pi]!.n;
  const isParam = (k: string | undefined) => {
    if (!k) return false;
    const r = resolveKey(index, fn, k, aliases);
    return r.param === pi && (r.path.length === 0 || r.inRoot === true);
  };
  for (const c of fn.calls) {
    const op = index.rc.containerOps.get(c.c);
    if (op && op.op === 'insert' && op.elemArg >= 0 && isParam(c.a[op.elemArg])) return true;
  }
  return fn.stores.some((st) => st.v === name || aliases.get(st.v) === name);
}

function summarize(index: WorkspaceIndex, def: FunctionDef, summaries: Map<string, RefSummary>): RefSummary {
  const fn = def.fact;
  const summary: RefSummary = { id: def.id, name: fn.name, file: def.file, line: fn.line, params: [] };
  if (fn.calls.length === 0) return summary;
  const aliases = aliasesOf(index, def.file, fn);
  const effects: Effect[] = [];
  /** Effects on local variables (for returned references). */
  const varEffects = new Map<string, { kind: Effect['kind']; via: string }[]>();
  const returnsVoid = fn.ret.t === 'void' && fn.ret.p === 0;
  let release: string | undefined;
  for (const c of fn.calls) {
    for (const e of callEffects(index, def, c, summaries)) {
      const r = resolveKey(index, fn, e.key, aliases);
      if (!ownsObject(r, e.isCounter)) continue;
      if (r.param >= 0) {
        let kind = e.kind;
        if (kind === 'cond-get' && !(c.ret || c.cond || c.s) ) kind = 'get'; // result ignored: acts as a get (and another rule flags it)
        // Result stored into a field or an array slot, not tested nor returned: the structure holds
        // whatever reference was taken; the function's own result says nothing about it.
        if (kind === 'cond-get' && !c.ret && !c.cond && c.s && !/^[A-Za-z_]\w*$/.test(c.s)) kind = 'get';
        if (kind === 'cond-get' && returnsVoid) kind = 'get';
        effects.push({
          param: r.param, kind, ...(e.counter ? { counter: e.counter } : {}), via: e.via, line: c.l, call: c, stored: !!c.s && !/^[A-Za-z_]\w*$/.test(c.s),
          ...(e.partial ? { partial: true } : {}), ...(e.errorOnly ? { errorOnly: true } : {}),
        });
        if (e.release && kind === 'put') release = e.release;
      } else if (r.root) {
        let l = varEffects.get(r.root);
        if (!l) varEffects.set(r.root, (l = []));
        l.push({ kind: e.kind, via: e.via });
      }
    }
  }
  // `if (kref_get_unless_zero(&rng->ref)) goto skip_init; ... kref_init(&rng->ref);` (hwrng_init): a count
  // found at zero is initialised again, so a conditional get on that parameter fails only with an error
  const inits = new Set<number>();
  for (const c of fn.calls) {
    const op = index.rc.refOps.get(c.c);
    if (!op || op.effect !== 'init' || op.objectArg) continue;
    if (!initsFirstReference(c.c, c.a)) continue;
    const k = c.a[op.counterArg];
    const r = k ? resolveKey(index, fn, k, aliases) : null;
    if (r && r.param >= 0 && ownsObject(r, true)) inits.add(r.param);
  }
  const byParam = new Map<number, Effect[]>();
  for (const e of effects) {
    const l = byParam.get(e.param);
    if (l) l.push(e);
    else byParam.set(e.param, [e]);
  }
  for (const [pi, list] of [...byParam].sort((a, b) => a[0] - b[0])) {
    const gets = list.filter((e) => e.kind === 'get').length;
    const puts = list.filter((e) => e.kind === 'put').length;
    const conds = list.filter((e) => e.kind === 'cond-get');
    let effect: ParamEffect = 'none';
    let first: Effect | undefined;
    if (conds.length && puts === 0 && gets === 0) {
      effect = 'cond-get';
      first = conds[0];
    } else if (gets > puts) {
      const stored = list.filter((e) => e.kind === 'get' && e.stored).length;
      effect = gets - stored <= puts || storesParam(index, fn, pi, aliases) ? 'get-stored' : 'get';
      first = list.find((e) => e.kind === 'get');
    } else if (puts > gets) {
      effect = 'put';
      first = list.find((e) => e.kind === 'put');
    }
    if (effect === 'none' || !first) continue;
    const partial = effect === 'put' ? partialPut(index, fn, pi, list, aliases)
      : effect === 'get' && list.filter((e) => e.kind === 'get').every((e) => e.partial === true || e.call.g === 1);
    const errorOnly = effect === 'cond-get' && (inits.has(pi) || conds.every((e) => e.errorOnly === true));
    summary.params.push({
      index: pi, name: fn.params[pi]!.n, effect, via: first.via, line: first.line, ...(first.counter ? { counter: first.counter } : {}),
      ...(partial ? { partial: true } : {}), ...(errorOnly ? { errorOnly: true } : {}),
    });
  }
  if (release && summary.params.some((p) => p.effect === 'put')) summary.release = release;
  // References handed out through pointer-to-pointer parameters.
  for (const st of fn.stores) {
    if (!/^[A-Za-z_]\w*$/.test(st.v)) continue;
    const ve = varEffects.get(st.v) ?? [];
    const got = ve.some((e) => e.kind === 'get' || e.kind === 'cond-get')
      || fn.calls.some((c) => c.s === st.v && refReturningCall(index, def, c, summaries));
    // `*p_res = res; ... vmw_resource_unreference(&res)`: the local reference is dropped, the caller borrows
    if (!got || ve.filter((e) => e.kind === 'put').length >= Math.max(1, ve.filter((e) => e.kind !== 'put').length)) continue;
    const to = resolveKey(index, fn, st.to);
    if (to.param >= 0 && to.path.length === 0 && fn.params[to.param]!.p >= 2) {
      summary.outRefs ??= [];
      if (!summary.outRefs.includes(to.param)) summary.outRefs.push(to.param);
    }
  }
  // Returned references.
  if (fn.ret.p > 0) {
    for (const r of fn.returns) {
      const got = returnedRef(index, def, r, varEffects, summaries);
      if (got) {
        summary.returnsRef = got.kind;
        summary.returnsVia = got.via;
        break;
      }
    }
  }
  return summary;
}

/**
 * Is the put on parameter `pi` taken only on some paths? The facts carry no
 * control flow, so the test is positional: the last call that mentions the
 * parameter must be one of its puts (a wrapper that puts on an error path and
 * goes on using the object on success is partial), and that put must not
 * itself come from a partial wrapper.
 */
function partialPut(index: WorkspaceIndex, fn: FunctionFact, pi: number, list: Effect[], aliases: Map<string, string>): boolean {
  const puts = list.filter((e) => e.kind === 'put');
  let last: CallFact | undefined;
  for (const c of fn.calls) {
    if (c.c.startsWith('->') && !c.a.length) continue;
    if (!c.a.some((a) => resolveKey(index, fn, a, aliases).param === pi)) continue;
    if (!last || c.l > last.l || (c.l === last.l && c.col > last.col)) last = c;
  }
  const lastPut = puts.find((e) => e.call === last);
  if (!lastPut || lastPut.partial === true) return true;
  // a put on some paths only: under a test of something else than the pointer being there
  // (`if (retval) usb_put_gadget(gadget)`), or after a return that only some paths take
  // (`if (!target->debug_trap_enabled) return 0; ... kfd_unref_process(target)`)
  if (lastPut.call.g) return true;
  // a function that reports success or failure and has several returns (`goto err_put` ladders:
  // ttm_bo_init_reserved, i915_gem_object_mmap) puts on its failure paths
  const returnsValue = !(fn.ret.t === 'void' && fn.ret.p === 0);
  return returnsValue && new Set(fn.returns).size > 1;
}

function refReturningCall(index: WorkspaceIndex, def: FunctionDef, c: CallFact, summaries: Map<string, RefSummary>): boolean {
  if (index.rc.refOps.get(c.c)?.returnsObject) return true;
  const callee = resolveCalleeId(index, def.file, c.c);
  return !!callee && callee !== def.id && !!summaries.get(callee)?.returnsRef;
}

function returnedRef(
  index: WorkspaceIndex, def: FunctionDef, r: string, varEffects: Map<string, { kind: Effect['kind']; via: string }[]>, summaries: Map<string, RefSummary>,
  depth = 0,
): { kind: ReturnsRef; via: string } | null {
  const fn = def.fact;
  const direct = /^([A-Za-z_]\w*)\(/.exec(r);
  if (direct) {
    const name = direct[1]!;
    const op = index.rc.refOps.get(name);
    if (op?.returnsObject) return { kind: op.effect === 'get-unless-zero' ? 'cond-get' : 'get', via: name };
    const callee = resolveCalleeId(index, def.file, name);
    const s = callee && callee !== def.id ? summaries.get(callee) : undefined;
    if (s?.returnsRef) return { kind: s.returnsRef, via: name };
    return null;
  }
  if (!/^[A-Za-z_]\w*$/.test(r)) return null;
  const assigned = fn.calls.filter((c) => c.s === r);
  const isLookup = (c: CallFact) => index.rc.containerOps.get(c.c)?.returnsElem === true || LOOKUP_NAMES.test(c.c);
  const fromLookup = assigned.some((c) => isLookup(c)
    || (isConverter(index, def.file, c.c) && !!c.a[0] && fn.calls.some((o) => o.s === c.a[0] && isLookup(o))))
    || fn.calls.some((c) => c.it === 1 && c.a.includes(r));
  const eff = varEffects.get(r) ?? [];
  if (eff.some((e) => e.kind === 'get')) return { kind: fromLookup ? 'lookup-get' : 'get', via: eff.find((e) => e.kind === 'get')!.via };
  if (eff.some((e) => e.kind === 'cond-get')) return { kind: fromLookup ? 'lookup-get' : 'cond-get', via: eff.find((e) => e.kind === 'cond-get')!.via };
  // `lookup(file, &handle, 1, &obj); return obj;`: a reference handed out through an out-parameter.
  for (const c of fn.calls) {
    if (c.c.startsWith('->') || !c.a.includes(r)) continue;
    const callee = resolveCalleeId(index, def.file, c.c);
    const s = callee && callee !== def.id ? summaries.get(callee) : undefined;
    if (!s?.outRefs) continue;
    if (s.outRefs.some((i) => c.a[i] === r)) return { kind: fromLookup || LOOKUP_NAMES.test(c.c) ? 'lookup-get' : 'get', via: c.c };
  }
  for (const c of assigned) {
    const op = index.rc.refOps.get(c.c);
    if (op?.returnsObject) return { kind: 'get', via: c.c };
    // `fb = obj_to_fb(mo)` where `mo` holds a new reference.
    if (depth < 3 && c.a[0] && c.a[0] !== r && /^[A-Za-z_]\w*$/.test(c.a[0]) && isConverter(index, def.file, c.c)) {
      const inner = returnedRef(index, def, c.a[0], varEffects, summaries, depth + 1);
      if (inner) return inner;
    }
    if (index.rc.allocs.has(c.c)) {
      const v = resolveKey(index, fn, r);
      if (v.type && index.refcounted.has(v.type.t)) return { kind: 'alloc', via: c.c };
      continue;
    }
    const callee = resolveCalleeId(index, def.file, c.c);
    const s = callee && callee !== def.id ? summaries.get(callee) : undefined;
    if (s?.returnsRef) return { kind: s.returnsRef, via: c.c };
  }
  return null;
}

function same(a: RefSummary | undefined, b: RefSummary): boolean {
  if (!a) return b.params.length === 0 && !b.returnsRef && !b.outRefs;
  if (a.returnsRef !== b.returnsRef || a.params.length !== b.params.length) return false;
  if ((a.outRefs ?? []).join() !== (b.outRefs ?? []).join()) return false;
  return a.params.every((p, i) => p.index === b.params[i]!.index && p.effect === b.params[i]!.effect && !p.partial === !b.params[i]!.partial);
}

const MAX_VISITS = 8;

/**
 * Learn summaries for every definition in the index (worklist fixpoint over the
 * call graph). `direct` (packed facts): per definition slot, 1 when it calls a refcount
 * primitive or an allocator; with it the fixpoint decodes only the definitions
 * that can have an effect: those, and the callers of a name once it has a
 * summary (on the whole Linux tree most definitions are neither). `tick` is
 * called every few thousand visits.
 */
export function learnSummaries(index: WorkspaceIndex, direct?: Uint8Array, tick?: () => void): Map<string, RefSummary> {
  const summaries = new Map<string, RefSummary>();
  // Every definition by id (the last of an id in iteration order, as a map over all keeps),
  // as a slot when the facts are packed: the fixpoint decodes a definition when it visits it.
  const lazy = index.functions instanceof LazyFunctions ? index.functions : null;
  const byId = new Map<string, FunctionDef | number>();
  if (lazy) lazy.eachSlot((k) => byId.set(lazy.idOf(k), k));
  else for (const defs of index.functions.values()) for (const d of defs) byId.set(d.id, d);
  const callsOf = (r: FunctionDef | number): number => (typeof r === 'number' ? lazy!.callsAt(r) : r.fact.calls.length);
  const summarizable = (r: FunctionDef | number): boolean => (typeof r === 'number' ? (lazy!.flagsAt(r) & SLOT_SUMMARIZABLE) !== 0 : r.fact.params.length > 0 || r.fact.ret.p > 0);
  const defOf = (r: FunctionDef | number): FunctionDef => (typeof r === 'number' ? lazy!.at(r) : r);
  // Bottom-up start: functions with fewer resolvable callees first (leaves before wrappers).
  const order = [...byId].sort((a, b) => callsOf(a[1]) - callsOf(b[1]) || (a[0] < b[0] ? -1 : 1));
  const queue: string[] = [];
  for (const [id, r] of order) if (summarizable(r)) queue.push(id);
  order.length = 0;
  const queued = new Set(queue);
  const visits = new Map<string, number>();
  /*
   * Names with a summary right now (how many definitions): a function that calls
   * no refcount primitive, no allocator and nothing named here has no effect to
   * learn (summarize would find none), which is most of them.
   */
  const named = new Map<string, number>();
  /** Slots that call a name that has (or had) a summary: the others, without a direct effect, need no visit. */
  const touched = lazy && direct && index.callers instanceof CallerIds ? new Uint8Array(lazy.definitions) : null;
  const callerSlots = touched ? (index.callers as CallerIds) : null;
  const setSummary = (id: string, s: RefSummary): void => {
    if (!summaries.has(id)) {
      if (touched && !named.has(s.name)) for (const k of callerSlots!.slotsOf(s.name) ?? []) touched[k] = 1;
      named.set(s.name, (named.get(s.name) ?? 0) + 1);
    }
    summaries.set(id, s);
  };
  const dropSummary = (id: string): void => {
    const s = summaries.get(id);
    if (!s) return;
    summaries.delete(id);
    const k = (named.get(s.name) ?? 1) - 1;
    if (k > 0) named.set(s.name, k);
    else named.delete(s.name);
  };
  const mayHaveEffect = (fn: FunctionFact): boolean => fn.calls.some((c) => index.rc.refOps.has(c.c) || index.rc.allocs.has(c.c) || named.has(c.c));
  for (let qi = 0; qi < queue.length; qi++) {
    if (tick && (qi & 4095) === 4095) tick();
    const id = queue[qi]!;
    const r = byId.get(id)!;
    queued.delete(id);
    const n = (visits.get(id) ?? 0) + 1;
    visits.set(id, n);
    if (n > MAX_VISITS) continue;
    // No direct effect and no callee with a summary, ever: no summary now or before (mayHaveEffect is false).
    if (touched && typeof r === 'number' && !direct![r] && !touched[r]) continue;
    const d = defOf(r);
    const next = mayHaveEffect(d.fact) ? summarize(index, d, summaries) : { id: d.id, name: d.fact.name, file: d.file, line: d.fact.line, params: [] };
    const prev = summaries.get(d.id);
    if (same(prev, next)) {
      if (!prev && (next.params.length || next.returnsRef || next.outRefs)) setSummary(d.id, next);
      continue;
    }
    if (next.params.length || next.returnsRef || next.outRefs) setSummary(d.id, next);
    else dropSummary(d.id);
    for (const callerId of index.callers.get(d.fact.name) ?? []) {
      if (queued.has(callerId) || !byId.has(callerId)) continue;
      queued.add(callerId);
      queue.push(callerId);
    }
  }
  return summaries;
}
