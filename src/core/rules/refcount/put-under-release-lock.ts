/**
 * `put-under-release-lock`: a put (`kref_put`, `*_dec_and_test` whose counter's
 * type has a release callback, or a learned put wrapper) while holding a lock
 * that the release callback takes, directly or through callees (index
 * `releases[name].locks`, compared by lock class). When the put drops the last
 * reference the release runs in this task and blocks on the lock it already
 * holds. `kref_put_mutex`/`kref_put_lock`/`*_dec_and_lock` take the lock only
 * on the release path and are the correct forms: never reported.
 */
import type { Finding } from '../../types';
import { makeFinding } from '../common';
import { keyClass, resolveCallee, resolveKey, summaryOf, type ReleaseInfo, type WorkspaceIndex } from '../../index/workspace';
import type { FunctionFact } from '../../index/facts';
import { putMayRelease } from '../../catalog/refcount';
import { anyName, calledNames, callsOf, cfgOf, factOf, functionsOf, locOf, lockEffects, makeEnv, step, walkRulePaths, type CallSite, type Env, type RefcountRule, type RuleInterest } from './walk';

export const PUT_UNDER_RELEASE_LOCK = 'put-under-release-lock';

function releasesOfType(index: WorkspaceIndex, type: string): ReleaseInfo[] {
  const out: ReleaseInfo[] = [];
  for (const r of index.releases.values()) if (r.types.includes(type)) out.push(r);
  return out;
}

const MAX_VIA_DEPTH = 4;

/**
 * Can a put through `via` (a primitive or a learned wrapper) run a release? A
 * plain `refcount_dec()` / `atomic_dec()` never does (a refcount_t reaching zero
 * there is a saturation warning, not a free): a wrapper whose puts all go through
 * one drops a reference that is never the last (irdma_free_retrans_entry()).
 */
function mayRelease(env: Env, via: string, depth: number): boolean {
  const op = env.rc.refOps.get(via);
  if (op) return (op.effect === 'put' || op.effect === 'put-release') && putMayRelease(op);
  if (!env.index || depth >= MAX_VIA_DEPTH) return true;
  const s = summaryOf(env.index, via, env.file);
  if (!s) return true;
  return !!s.release || s.params.some((p) => p.effect === 'put' && mayRelease(env, p.via, depth + 1));
}

/** Release callbacks a put call may run, with how it was determined. */
export function releasesOfPut(env: Env, fact: FunctionFact | null, c: CallSite): { via: string; releases: ReleaseInfo[] } | null {
  const index = env.index;
  if (!index) return null;
  const op = env.rc.refOps.get(c.name);
  if (op) {
    if (op.effect !== 'put-release' || op.lockArg !== undefined) return null;
    if (op.releaseArg !== undefined) {
      const rel = c.args[op.releaseArg]?.replace(/^&/, '').replace(/^\((\w+)\)$/, '$1');
      const r = rel ? index.releases.get(rel) : undefined;
      return r ? { via: c.name, releases: [r] } : null;
    }
    const counter = c.args[op.counterArg];
    const k = counter ? resolveKey(index, fact, counter.replace(/^&/, '')) : null;
    if (!k?.owner) return null;
    const rs = releasesOfType(index, k.owner).filter((r) => r.via.some((v) => v.startsWith('inline:')) && r.name !== fact?.name);
    return rs.length ? { via: c.name, releases: rs } : null;
  }
  const s = summaryOf(index, c.name, env.file);
  if (!s || !s.params.some((p) => p.effect === 'put' && mayRelease(env, p.via, 0))) return null;
  if (s.release) {
    const r = index.releases.get(s.release);
    if (r) return { via: `${c.name} (put wrapper)`, releases: [r] };
  }
  const rs: ReleaseInfo[] = [];
  for (const p of s.params) {
    if (p.effect !== 'put' || !p.counter || !mayRelease(env, p.via, 0)) continue;
    const dot = p.counter.lastIndexOf('.');
    if (dot > 0) rs.push(...releasesOfType(index, p.counter.slice(0, dot)));
  }
  return rs.length ? { via: `${c.name} (put wrapper)`, releases: rs } : null;
}

/**
 * The release expects `cls` held on entry: its first operation on that class is
 * a release (`__releases(l) __acquires(l)` callbacks that drop and retake the
 * caller's lock, as the kref_put_mutex/kref_put_lock releases do).
 */
function releaseExpectsHeld(index: WorkspaceIndex, r: ReleaseInfo, cls: string): boolean {
  const d = resolveCallee(index, r.file, r.name);
  if (!d) return false;
  for (const c of d.fact.calls) {
    const op = index.cat.lockOps.get(c.c);
    const arg = op && op.lockArg >= 0 ? c.a[op.lockArg] : undefined;
    if (!op || !arg || (keyClass(index, d.fact, arg) ?? arg) !== cls) continue;
    return op.op === 'release';
  }
  return false;
}

/**
 * A finding needs an index, a put that can run a release (releasesOfPut), a lock
 * this function takes (lockEffects), and a function that is not a release
 * callback itself (which may legitimately put other objects under its locks).
 */
export const putUnderReleaseLockInterest: RuleInterest = (env, fn, names) => {
  const index = env.index;
  if (!index || index.releases.has(fn)) return false;
  const mayPut = (n: string): boolean => {
    const op = env.rc.refOps.get(n);
    if (op) return op.effect === 'put-release' && op.lockArg === undefined;
    return !!summaryOf(index, n, env.file)?.params.some((p) => p.effect === 'put');
  };
  const mayLock = (n: string): boolean => n === 'guard' || n === 'scoped_guard' || n === 'scoped_cond_guard' || env.cat.lockOps.get(n)?.op === 'acquire';
  return anyName(names, mayPut) && anyName(names, mayLock);
};

export const putUnderReleaseLock: RefcountRule = (parsed, file, ctx) => {
  const env = makeEnv(parsed, file, ctx);
  const index = env.index;
  if (!index) return [];
  const out: Finding[] = [];
  for (const fn of functionsOf(parsed)) {
    if (!putUnderReleaseLockInterest(env, fn.name, calledNames(env, fn))) continue;
    const cfg = cfgOf(env, fn);
    if (!cfg) continue;
    const fact = factOf(env, fn);
    const reported = new Set<number>();
    walkRulePaths<Record<string, number>>(env, fn, PUT_UNDER_RELEASE_LOCK, out, cfg, {}, (s) => JSON.stringify(s), (cn, s) => {
      const calls = callsOf(env, cn);
      const held = { ...s };
      for (const c of calls) {
        if (!c.node || reported.has(c.start)) continue;
        const keys = Object.keys(held).filter((k) => k !== 'rcu');
        if (!keys.length) continue;
        const put = releasesOfPut(env, fact, c);
        if (!put) continue;
        for (const key of keys) {
          const cls = keyClass(index, fact, key) ?? key;
          const r = put.releases.find((x) => x.locks.includes(cls) && !releaseExpectsHeld(index, x, cls));
          if (!r) continue;
          reported.add(c.start);
          out.push(makeFinding(PUT_UNDER_RELEASE_LOCK, file, fn.name, locOf(env, c.start, c.end),
            `\`${c.name}\` is called with \`${key}\` held, and the release callback \`${r.name}\` takes \`${cls}\`: `
            + 'dropping the last reference here deadlocks. Use kref_put_mutex()/kref_put_lock() or drop the lock before the put.',
            [
              { file, line: held[key]!, column: 1, message: `lock at line ${held[key]}: ${key} taken (class ${cls})` },
              step(env, c.start, `put at line ${c.line}: ${put.via} may run ${r.name}() on the last reference`),
              { file: r.file, line: r.line, column: 1, message: `release ${r.name}() takes ${cls}` },
            ]));
          break;
        }
      }
      for (const e of lockEffects(env, cn, calls)) {
        if (e.op === 'acquire') held[e.key] ??= e.line;
        else delete held[e.key];
      }
      return held;
    });
  }
  return out;
};
