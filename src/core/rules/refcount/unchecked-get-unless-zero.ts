/**
 * `unchecked-get-unless-zero`: the result of a get-unless-zero primitive
 * (`kref_get_unless_zero`, `refcount_inc_not_zero`, `atomic_inc_not_zero`,
 * `percpu_ref_tryget*`) or of a learned conditional-get wrapper is ignored:
 * an expression statement, or stored into a variable that is never read again.
 * On failure no reference was taken, and the caller goes on as if it had one.
 */
import type { SyntaxNode as Node } from '../../parse/syntax';
import type { Finding } from '../../types';
import { makeFinding } from '../common';
import { summaryOf } from '../../index/workspace';
import type { ResultUse } from '../../index/lazy';
import type { Cfg } from '../../cfg/build';
import { anyName, assignedVar, calledNames, callsOf, cfgOf, functionsOf, locOf, makeEnv, refEffects, step, type CallSite, type Env, type InterestEnv, type RefcountRule, type RuleInterest } from './walk';

export const UNCHECKED_GET_UNLESS_ZERO = 'unchecked-get-unless-zero';

/** Is `name` a conditional get: a primitive whose success is its return value, or a learned cond-get wrapper? */
export function condGetVia(env: Env, name: string, args: readonly string[] = []): string | null {
  const op = env.rc.refOps.get(name);
  if (op) {
    if (op.effect !== 'get-unless-zero' || op.releasedWhen !== 'nonzero') return null;
    // atomic_inc_not_zero says what it is; atomic_add_unless is a conditional get only as `(v, 1, 0)`
    if (op.onlyIfRefLike && op.amountArg !== undefined && (args[op.amountArg]?.trim() !== '1' || (args[2] !== undefined && args[2].trim() !== '0'))) return null;
    return name;
  }
  if (!env.index) return null;
  const s = summaryOf(env.index, name, env.file);
  if (!s) return null;
  if (s.returnsRef === 'cond-get' && s.params.length === 0) return null; // returns the object: a NULL check is another rule
  // (a conditional get that fails only with an error, never on a count at zero: hwrng_init's get-or-initialise)
  const p = s.params.find((x) => x.effect === 'cond-get' && !x.errorOnly);
  return p ? p.via : null;
}

/** Whether `name` can be a conditional get at all (whatever its arguments): a cheap filter before condGetVia. */
export function mayCondGet(env: InterestEnv, name: string): boolean {
  if (env.rc.refOps.get(name)?.effect === 'get-unless-zero') return true;
  if (!env.index) return false;
  return summaryOf(env.index, name, env.file)?.params.some((p) => p.effect === 'cond-get') === true;
}

/**
 * A learned wrapper whose callers, across the workspace, discard its result at
 * least this often (and at two call sites or more) is used as a plain get by
 * callers that already hold a reference: `sctp_transport_hold()`, `tty_port_get()`
 * (18 of 21 and 10 of 13 calls in Linux 6.12). Ignoring its result is that
 * wrapper's convention, not a deviation from it; a primitive's is always reported.
 */
const CONVENTION_IGNORED_SHARE = 0.5;
const CONVENTION_MIN_IGNORED = 2;

/** How the workspace's calls of a learned wrapper use its result (undefined for a primitive, or uncounted). */
function resultUseOf(env: Env, name: string): ResultUse | undefined {
  if (env.rc.refOps.has(name) || !env.index) return undefined;
  return summaryOf(env.index, name, env.file)?.resultUse;
}

/** Is discarding the result the convention of the wrapper's callers? */
function ignoredByConvention(u: ResultUse | undefined): boolean {
  return !!u && u.ignored >= CONVENTION_MIN_IGNORED && u.ignored >= CONVENTION_IGNORED_SHARE * u.calls;
}

/** ` Its result is tested or used at 9 of its 10 call sites.` for a wrapper with counted calls. */
function deviation(u: ResultUse | undefined): string {
  return u && u.calls >= 2 ? ` Its result is tested or used at ${u.calls - u.ignored} of its ${u.calls} call sites.` : '';
}

function ignored(call: Node): boolean {
  let n: Node = call;
  let p = n.parent;
  while (p && (p.type === 'parenthesized_expression' || p.type === 'cast_expression')) {
    n = p;
    p = p.parent;
  }
  return p?.type === 'expression_statement' || (p?.type === 'comma_expression' && p.childForFieldName('left')?.id === n.id);
}

/** Is `name` read anywhere in the body after `from` (other than being assigned again)? */
function readAfter(body: Node, name: string, from: number): boolean {
  let found = false;
  const visit = (n: Node): void => {
    if (found || n.endIndex <= from) return;
    if (n.type === 'identifier' && n.text === name && n.startIndex >= from) {
      const p = n.parent;
      const isLhs = p?.type === 'assignment_expression' && p.childForFieldName('left')?.id === n.id && p.childForFieldName('operator')?.text === '=';
      if (!isLhs) found = true;
      return;
    }
    for (const c of n.namedChildren) if (c) visit(c);
  };
  visit(body);
  return found;
}

/**
 * Does the function drop more references on the conditional get's object than
 * it takes (this get included)? Then it came in holding one, which keeps the
 * count above zero until it is dropped: the get cannot fail
 * (sctp_generate_probe_event(): the timer's reference, put at its end).
 */
function ownsReference(env: Env, cfg: Cfg, get: CallSite): boolean {
  const target = refEffects(env, get)[0]?.v;
  if (!target) return false;
  let gets = 0;
  let puts = 0;
  const seen = new Set<number>();
  for (const cn of cfg.nodes) {
    for (const c of callsOf(env, cn)) {
      if (seen.has(c.start)) continue;
      seen.add(c.start);
      for (const e of refEffects(env, c)) {
        if (e.v !== target) continue;
        if (e.kind === 'get') gets++;
        else puts++;
      }
    }
  }
  return puts > gets;
}

/** A finding needs a conditional get (a primitive or a learned wrapper). */
export const condGetInterest: RuleInterest = (env, _fn, names) => anyName(names, (n) => mayCondGet(env, n));

export const uncheckedGetUnlessZero: RefcountRule = (parsed, file, ctx) => {
  const env = makeEnv(parsed, file, ctx);
  const out: Finding[] = [];
  for (const fn of functionsOf(parsed)) {
    if (!condGetInterest(env, fn.name, calledNames(env, fn))) continue;
    const body = fn.node.childForFieldName('body')!;
    const cfg = cfgOf(env, fn);
    if (!cfg) continue;
    const done = new Set<number>();
    for (const cn of cfg.nodes) {
      if (cn.kind === 'loopHead') continue;
      for (const c of callsOf(env, cn)) {
        if (!c.node || done.has(c.start)) continue;
        done.add(c.start);
        const via = condGetVia(env, c.name, c.args);
        if (!via) continue;
        if (ownsReference(env, cfg, c)) continue;
        const what = via === c.name ? `\`${c.name}\`` : `\`${c.name}\` (a conditional get through \`${via}\`)`;
        if (ignored(c.node)) {
          const use = resultUseOf(env, c.name);
          if (ignoredByConvention(use)) continue;
          out.push(makeFinding(UNCHECKED_GET_UNLESS_ZERO, file, fn.name, locOf(env, c.start, c.end),
            `The result of ${what} is ignored: when the count was already zero no reference is taken and the object may be freed.${deviation(use)}`,
            [step(env, c.start, `${c.name}() may fail (count already zero); its result is discarded`)]));
          continue;
        }
        const v = assignedVar(c.node);
        if (v && !readAfter(body, v, c.end)) {
          out.push(makeFinding(UNCHECKED_GET_UNLESS_ZERO, file, fn.name, locOf(env, c.start, c.end),
            `The result of ${what} is stored in \`${v}\` but never tested: when the count was already zero no reference is taken.`,
            [step(env, c.start, `${c.name}() may fail; result stored in ${v}`), step(env, body.endIndex - 1, `${v} is never tested`)]));
        }
      }
    }
  }
  return out;
};
