/**
 * `free-without-grace-period`: an object of a type that readers find under
 * `rcu_read_lock` (an index lookup structure with RCU readers holds it) is freed
 * with `kfree`/`kmem_cache_free`/`kvfree` with no grace period before the free on
 * that path (no `synchronize_rcu`, `call_rcu`, `kfree_rcu`), in a function where
 * the object may have been reachable: a release callback, or after unpublishing
 * it on the path. RCU callbacks (named by `call_rcu`) and SLAB_TYPESAFE_BY_RCU
 * caches are exempt.
 */
import type { Finding } from '../../types';
import { makeFinding } from '../common';
import { isNodeType, keyClass, normType, resolveKey, type LookupStructure, type WorkspaceIndex } from '../../index/workspace';
import type { ContainerKind } from '../../catalog/refcount';
import type { FunctionFact } from '../../index/facts';
import { lockKey } from '../../analysis/lockid';
import { anyName, calledNames, callsOf, cfgOf, factOf, functionsOf, locOf, makeEnv, rootVar, step, walkRulePaths, type RefcountRule, type RuleInterest } from './walk';

export const FREE_WITHOUT_GRACE_PERIOD = 'free-without-grace-period';

/** One removal from a container on the path: what it removed, and from what, as far as the call says. */
interface Unpublish {
  line: number;
  kind: ContainerKind;
  /** The head's class when the call names it (`idr_remove(&root->ino_idr, ...)`: `struct kernfs_root.ino_idr`). */
  head: string | null;
  /** Type of the removed element's root variable (`list_del(&i_ipaddr->list)`: `struct rds_ib_ipaddr`). */
  rootType: string | null;
  /** The node member it was linked by (`list_del(&zdev->entry)`: `entry`). */
  member: string | null;
}

interface State {
  grace?: number;
  unpublished?: Unpublish[];
}

/** Removals a path keeps (the first ones: a teardown loop may remove from many lists). */
const MAX_UNPUBLISH = 4;

/** Container kinds one removal primitive can apply to (hash_del is an hlist_del; idr and radix trees are xarrays inside). */
const KIND_GROUP: Record<ContainerKind, string> = {
  list: 'list', hlist: 'hlist', hashtable: 'hlist', idr: 'xarray', xarray: 'xarray', radix: 'xarray',
  rbtree: 'rbtree', rhashtable: 'rhashtable', 'vma-offset': 'vma-offset', 'rcu-pointer': 'rcu-pointer', llist: 'llist',
};

/**
 * Can this removal have taken an object of `type` out of `l`? Only what the
 * call leaves open counts as a match: a named head must be `l`; else the kind
 * of container must agree (a `list_del` does not unpublish from a radix tree or
 * an `__rcu` pointer), the removed element must be of `type`, and its node
 * member must be one `l` links `type` by, when `l` knows that member.
 */
function unpublishes(index: WorkspaceIndex, u: Unpublish, l: LookupStructure, type: string): boolean {
  if (u.head !== null) return u.head === l.id;
  if (KIND_GROUP[u.kind] !== KIND_GROUP[l.kind]) return false;
  if (u.rootType !== null && u.rootType !== type) return false;
  if (u.member === null) return true;
  const members = l.elements.filter((e) => e.member && normType(index, e.type) === type).map((e) => e.member!);
  return members.length === 0 || members.includes(u.member);
}

const rcuCallbacks = new WeakMap<WorkspaceIndex, Set<string>>();

/** Functions named as the callback of a `call_rcu`-style call anywhere in the workspace. */
function rcuCallbacksOf(index: WorkspaceIndex): Set<string> {
  let s = rcuCallbacks.get(index);
  if (!s) rcuCallbacks.set(index, (s = new Set(index.rcuCallbacks)));
  return s;
}

/** Lookup structures whose readers find objects of `type` under RCU. */
export function rcuReadStructures(index: WorkspaceIndex, type: string): LookupStructure[] {
  const out: LookupStructure[] = [];
  for (const l of index.lookups.values()) {
    // an RCU structure (`__rcu`, `_rcu` primitives): a `_locked` lookup that also happens to run under rcu_read_lock is protected by its lock
    if (!l.rcu || !l.elements.some((e) => normType(index, e.type) === type)) continue;
    if (l.readLocks.includes('rcu') || l.lookup.some((s) => s.held.includes('rcu'))) out.push(l);
  }
  return out;
}

/** A finding needs an index, an immediate free, and a function that is not itself an RCU callback. */
export const freeWithoutGracePeriodInterest: RuleInterest = (env, fn, names) => {
  const index = env.index;
  if (!index || rcuCallbacksOf(index).has(fn)) return false;
  return anyName(names, (n) => {
    const f = env.rc.frees.get(n);
    return f !== undefined && !f.deferred;
  });
};

/**
 * The head each cursor of a node iterator walks in this function, by `cursor.member`
 * (`list_for_each_entry_safe(addrw, t, &net->sctp.addr_waitq, list)`: `addrw.list` ->
 * `struct netns_sctp.addr_waitq`); a cursor that walks two heads by one member is left out.
 */
function iteratedHeads(index: WorkspaceIndex, fact: FunctionFact): Map<string, string> {
  const out = new Map<string, string>();
  const twice = new Set<string>();
  for (const c of fact.calls) {
    const op = index.rc.containerOps.get(c.c);
    if (op?.op !== 'iterate' || op.memberArg === undefined || op.headArg < 0) continue;
    const v = c.a[op.elemArg];
    const m = c.a[op.memberArg];
    const h = c.a[op.headArg];
    if (!v || !m || !h || !/^[A-Za-z_]\w*$/.test(v) || !/^[A-Za-z_]\w*$/.test(m)) continue;
    const k = `${v}.${m}`;
    const cls = keyClass(index, fact, h);
    if (!cls || twice.has(k)) continue;
    if (out.has(k) && out.get(k) !== cls) {
      out.delete(k);
      twice.add(k);
    } else out.set(k, cls);
  }
  return out;
}

export const freeWithoutGracePeriod: RefcountRule = (parsed, file, ctx) => {
  const env = makeEnv(parsed, file, ctx);
  const index = env.index;
  if (!index) return [];
  const out: Finding[] = [];
  const typesafe = new Set(index.typesafeByRcu);
  for (const fn of functionsOf(parsed)) {
    if (!freeWithoutGracePeriodInterest(env, fn.name, calledNames(env, fn))) continue;
    const fact = factOf(env, fn);
    if (!fact) continue;
    const isRelease = index.releases.has(fn.name);
    const cfg = cfgOf(env, fn);
    if (!cfg) continue;
    const reported = new Set<number>();
    const cursors = iteratedHeads(index, fact);
    walkRulePaths<State>(env, fn, FREE_WITHOUT_GRACE_PERIOD, out, cfg, {}, (s) => `${s.grace ?? ''}/${s.unpublished?.map((u) => u.line).join(',') ?? ''}`, (cn, s) => {
      const next: State = { ...s };
      for (const c of callsOf(env, cn)) {
        const rop = env.rc.rcuOps.get(c.name);
        if (rop && rop.kind !== 'rcu_barrier') next.grace ??= c.line;
        const cop = env.rc.containerOps.get(c.name);
        if (cop?.op === 'remove' && (next.unpublished?.length ?? 0) < MAX_UNPUBLISH) {
          const headArg = cop.headArg >= 0 ? c.args[cop.headArg] : undefined;
          const elemArg = cop.elemIsNode && cop.elemArg >= 0 ? c.args[cop.elemArg] : undefined;
          const e = elemArg ? resolveKey(index, fact, lockKey(elemArg)) : null;
          next.unpublished = [...(next.unpublished ?? []), {
            line: c.line,
            kind: cop.container,
            // `list_del(&addrw->list)` inside `list_for_each_entry_safe(addrw, t, &net->sctp.addr_waitq, list)`: off addr_waitq
            head: headArg ? keyClass(index, fact, lockKey(headArg)) : e?.root && e.path.length === 1 ? cursors.get(`${e.root}.${e.path[0]}`) ?? null : null,
            // `list_del(pos)` with `struct list_head *pos`: the node of an element of any type
            rootType: e?.rootType && !isNodeType(e.rootType) ? e.rootType : null,
            member: e?.path.length ? e.path[e.path.length - 1]! : null,
          }];
        }
        const free = env.rc.frees.get(c.name);
        if (!free || free.deferred || next.grace !== undefined || reported.has(c.start) || !c.node) continue;
        if (!isRelease && !next.unpublished) continue;
        const arg = c.args[free.objectArg];
        if (!arg || !/^\(?\s*[A-Za-z_]\w*\s*\)?$/.test(arg)) continue;
        const v = rootVar(arg)!;
        const tr = fact.vars[v] ?? fact.params.find((p) => p.n === v);
        if (!tr || tr.p !== 1) continue;
        const type = normType(index, tr.t);
        // only struct and union objects have a lifecycle (a freed `char *` buffer is not a published object)
        if (!/^(?:struct|union) /.test(type) || typesafe.has(type)) continue;
        if (c.name === 'kmem_cache_free' && c.args[0]) {
          const cache = c.args[0];
          const cls = keyClass(index, fact, lockKey(cache)) ?? cache;
          if (typesafe.has(cls) || typesafe.has(cache)) continue;
        }
        // Outside a release callback the object was reachable only if the path took it out of a structure readers walk.
        // A reader elsewhere: a function that walks the structure under rcu_read_lock and frees
        // what it walks is no evidence of concurrent readers (ice_lag_destroy_netdev_list).
        let ls = rcuReadStructures(index, type).filter((l) => l.lookup.some((x) => x.held.includes('rcu') && (x.fn !== fn.name || x.file !== file)));
        let unpub: Unpublish | undefined;
        if (!isRelease) {
          ls = ls.filter((l) => next.unpublished!.some((u) => unpublishes(index, u, l, type)));
          if (ls.length) unpub = next.unpublished!.find((u) => unpublishes(index, u, ls[0]!, type));
        } else unpub = next.unpublished?.[0];
        if (!ls.length) continue;
        reported.add(c.start);
        const l = ls[0]!;
        const reader = l.lookup.find((x) => x.held.includes('rcu') && (x.fn !== fn.name || x.file !== file));
        out.push(makeFinding(FREE_WITHOUT_GRACE_PERIOD, file, fn.name, locOf(env, c.start, c.end),
          `\`${v}\` (${type}) is freed with \`${c.name}\` without a grace period, but readers find ${type} in \`${l.id}\` under rcu_read_lock: `
          + 'a reader may still be using it. Use kfree_rcu()/call_rcu(), or synchronize_rcu() before the free.',
          [
            ...(reader ? [{ file: reader.file, line: reader.line, column: 1, message: `lookup at line ${reader.line}: ${reader.fn}() finds ${type} in ${l.id} under rcu_read_lock` }] : []),
            ...(unpub ? [{ file, line: unpub.line, column: 1, message: `unpublish at line ${unpub.line}: removed from the structure; readers may still hold it` }] : []),
            step(env, c.start, `free at line ${c.line}: ${c.name}(${v}) with no grace period on this path`),
          ]));
      }
      return next;
    });
  }
  return out;
};
