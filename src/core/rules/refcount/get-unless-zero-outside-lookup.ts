/**
 * `get-unless-zero-outside-lookup`: a get-unless-zero on a pointer that a lookup
 * found (idr_find, xa_load, list/hlist/hash iteration, rhashtable lookup,
 * rcu_dereference, a learned lookup function) after the critical section (lock or
 * RCU read side) that protected the lookup ended on that path. Once the section
 * is over the object may have been unpublished, released and freed: the get reads
 * freed memory. Path-aware: one state per path through the CFG.
 */
import type { Finding, TraceStep } from '../../types';
import { makeFinding } from '../common';
import { resolveCallee, summaryOf } from '../../index/workspace';
import { condGetInterest, condGetVia } from './unchecked-get-unless-zero';
import { atomOf } from './ownership-syntax';
import { assignedVar, assignedVars, calledNames, callsOf, cfgOf, functionsOf, locOf, lockEffects, makeEnv, plainCopy, refEffects, rootVar, step, walkRulePaths, type CallSite, type Env, type RefcountRule } from './walk';

export const GET_UNLESS_ZERO_OUTSIDE_LOOKUP = 'get-unless-zero-outside-lookup';

interface Found {
  via: string;
  at: number;
  /** Protection keys held at the lookup. */
  prot: string[];
  /** Where the last of them was released on this path. */
  ended?: { at: number; key: string };
}

interface State {
  /** Held protection keys with the lines of their (possibly nested) acquires. */
  held: Record<string, number[]>;
  found: Record<string, Found>;
}

const LOOKUP_NAME = /lookup|find|search|_get_next|idr_find|xa_load/;

/** Does this call return an element found in a lookup structure without taking a reference? */
export function lookupVia(env: Env, c: CallSite): string | null {
  const cop = env.rc.containerOps.get(c.name);
  if (cop && cop.op === 'lookup' && cop.returnsElem) return c.name;
  if (env.rc.rcuDereference.has(c.name) && c.name !== 'rcu_dereference_protected' && c.name !== 'rcu_access_pointer') return c.name;
  if (!env.index || !LOOKUP_NAME.test(c.name)) return null;
  // learned lookup function: returns what a lookup primitive found, takes no reference
  const s = summaryOf(env.index, c.name, env.file);
  if (s?.returnsRef) return null;
  const d = resolveCallee(env.index, env.file, c.name);
  if (!d) return null;
  const f = d.fact;
  const found = f.calls.filter((k) => {
    const o = env.rc.containerOps.get(k.c);
    return (o && o.op === 'lookup' && o.returnsElem) || env.rc.rcuDereference.has(k.c);
  });
  if (!found.some((k) => k.ret || (k.s && f.returns.includes(k.s)))) return null;
  return `${c.name} (lookup)`;
}

function keyOf(s: State): string {
  return JSON.stringify(s);
}

export const getUnlessZeroOutsideLookup: RefcountRule = (parsed, file, ctx) => {
  const env = makeEnv(parsed, file, ctx);
  const out: Finding[] = [];
  for (const fn of functionsOf(parsed)) {
    if (!condGetInterest(env, fn.name, calledNames(env, fn))) continue;
    const cfg = cfgOf(env, fn);
    if (!cfg) continue;
    const reported = new Set<number>();
    walkRulePaths<State>(env, fn, GET_UNLESS_ZERO_OUTSIDE_LOOKUP, out, cfg, { held: {}, found: {} }, keyOf, (cn, s, si) => {
      const calls = callsOf(env, cn);
      const held = { ...s.held };
      const found = { ...s.found };
      // the edge on which a found pointer is NULL or an error pointer: no object to protect there
      const atom = cn.kind === 'branch' && cn.ast ? atomOf(cn.ast) : null;
      if (atom?.v && found[atom.v] && (atom.test === 'truthy' ? (si === 0) !== atom.pol : (atom.test === 'err' || atom.test === 'errnull') && (si === 0) === atom.pol)) delete found[atom.v];
      // a lookup-found pointer passed to a get-unless-zero
      for (const c of calls) {
        if (!c.node) continue;
        const via = condGetVia(env, c.name, c.args);
        // a reference taken while the lookup's section still protects the object pins it: a get
        // on it afterwards, on that counter or another (`nbd->refs` inside, `nbd_get_config_unlocked()`
        // after), cannot meet a freed object
        for (const { v, kind } of refEffects(env, c)) if (kind === 'get' && found[v] && !found[v]!.ended) delete found[v];
        if (!via) continue;
        const op = env.rc.refOps.get(c.name);
        const arg = c.args[op ? op.counterArg : 0];
        const v = arg ? rootVar(arg) : null;
        const f = v ? found[v] : undefined;
        if (!v || !f?.ended || reported.has(c.start)) continue;
        reported.add(c.start);
        const trace: TraceStep[] = [
          step(env, f.at, `lookup at line ${locOf(env, f.at, f.at).line}: ${v} comes from ${f.via} under ${f.prot.map((k) => (k === 'rcu' ? 'rcu_read_lock' : k)).join(', ')}`),
          step(env, f.ended.at, `unlock at line ${locOf(env, f.ended.at, f.ended.at).line}: ${f.ended.key === 'rcu' ? 'RCU read side' : f.ended.key} ends; ${v} may now be freed`),
          step(env, c.start, `get at line ${c.line}: ${c.name}() reads ${v}'s counter`),
        ];
        out.push(makeFinding(GET_UNLESS_ZERO_OUTSIDE_LOOKUP, file, fn.name, locOf(env, c.start, c.end),
          `\`${c.name}\` on \`${v}\` after the ${f.ended.key === 'rcu' ? 'RCU read-side critical section' : `\`${f.ended.key}\` critical section`} that protected its lookup ended: `
          + 'the object may already be freed, so even get-unless-zero reads freed memory. Take the reference before unlocking.', trace));
      }
      // reassignments drop what we knew
      const copy = plainCopy(cn);
      for (const v of assignedVars(cn)) delete found[v];
      if (copy && s.found[copy.from]) found[copy.to] = s.found[copy.from]!;
      // lookups
      const prot = Object.keys(held);
      if (cn.kind === 'loopHead') {
        const c = calls[0];
        const cop = c ? env.rc.containerOps.get(c.name) : undefined;
        const v = cn.assigns?.[0];
        if (c && v && cop && cop.op === 'iterate' && prot.length) found[v] = { via: c.name, at: c.start, prot };
      } else {
        for (const c of calls) {
          const via = c.node ? lookupVia(env, c) : null;
          const v = via && c.node ? assignedVar(c.node) : null;
          if (v && via && prot.length) found[v] = { via, at: c.start, prot };
        }
      }
      // lock effects
      for (const e of lockEffects(env, cn, calls)) {
        if (e.op === 'acquire') held[e.key] = [...(held[e.key] ?? []), e.line];
        else {
          const rest = (held[e.key] ?? []).slice(0, -1);
          if (rest.length) {
            held[e.key] = rest; // nested rcu_read_lock / re-taken lock: still protected
            continue;
          }
          delete held[e.key];
          for (const [v, f] of Object.entries(found)) {
            if (f.ended || !f.prot.includes(e.key)) continue;
            if (f.prot.every((k) => held[k] === undefined)) found[v] = { ...f, ended: { at: e.start, key: e.key } };
          }
        }
      }
      return { held, found };
    });
  }
  return out;
};
