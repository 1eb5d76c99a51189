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
import { keyClass, normType, type LookupStructure, type WorkspaceIndex } from '../../index/workspace';
import { lockKey } from '../../analysis/lockid';
import { anyName, calledNames, callsOf, cfgOf, factOf, functionsOf, locOf, makeEnv, rootVar, step, walkRulePaths, type RefcountRule, type RuleInterest } from './walk';

export const FREE_WITHOUT_GRACE_PERIOD = 'free-without-grace-period';

interface State {
  grace?: number;
  unpublished?: number;
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
    walkRulePaths<State>(env, fn, FREE_WITHOUT_GRACE_PERIOD, out, cfg, {}, (s) => `${s.grace ?? ''}/${s.unpublished ?? ''}`, (cn, s) => {
      const next: State = { ...s };
      for (const c of callsOf(env, cn)) {
        const rop = env.rc.rcuOps.get(c.name);
        if (rop && rop.kind !== 'rcu_barrier') next.grace ??= c.line;
        const cop = env.rc.containerOps.get(c.name);
        if (cop?.op === 'remove') next.unpublished ??= c.line;
        const free = env.rc.frees.get(c.name);
        if (!free || free.deferred || next.grace !== undefined || reported.has(c.start) || !c.node) continue;
        if (!isRelease && next.unpublished === undefined) continue;
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
        const ls = rcuReadStructures(index, type);
        if (!ls.length) continue;
        reported.add(c.start);
        const l = ls[0]!;
        const reader = l.lookup.find((x) => x.held.includes('rcu'));
        out.push(makeFinding(FREE_WITHOUT_GRACE_PERIOD, file, fn.name, locOf(env, c.start, c.end),
          `\`${v}\` (${type}) is freed with \`${c.name}\` without a grace period, but readers find ${type} in \`${l.id}\` under rcu_read_lock: `
          + 'a reader may still be using it. Use kfree_rcu()/call_rcu(), or synchronize_rcu() before the free.',
          [
            ...(reader ? [{ file: reader.file, line: reader.line, column: 1, message: `lookup at line ${reader.line}: ${reader.fn}() finds ${type} in ${l.id} under rcu_read_lock` }] : []),
            ...(next.unpublished !== undefined ? [{ file, line: next.unpublished, column: 1, message: `unpublish at line ${next.unpublished}: removed from the structure; readers may still hold it` }] : []),
            step(env, c.start, `free at line ${c.line}: ${c.name}(${v}) with no grace period on this path`),
          ]));
      }
      return next;
    });
  }
  return out;
};
