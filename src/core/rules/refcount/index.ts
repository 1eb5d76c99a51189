/** The refcount/RCU rules (issue 3) that run per file: one file per rule, aggregated here. */
import type { ParsedFile } from '../../parse/source';
import type { Finding, IncompleteFunction } from '../../types';
import { FREE_WITHOUT_GRACE_PERIOD, freeWithoutGracePeriod, freeWithoutGracePeriodInterest } from './free-without-grace-period';
import { GET_UNLESS_ZERO_OUTSIDE_LOOKUP, getUnlessZeroOutsideLookup } from './get-unless-zero-outside-lookup';
import { ownershipInterest } from './ownership';
import { PUT_UNDER_RELEASE_LOCK, putUnderReleaseLock, putUnderReleaseLockInterest } from './put-under-release-lock';
import { REF_LEAK, refLeak } from './ref-leak';
import { condGetInterest, UNCHECKED_GET_UNLESS_ZERO, uncheckedGetUnlessZero } from './unchecked-get-unless-zero';
import { UNSAFE_LOOKUP_GET, unsafeLookupGet, unsafeLookupGetInterest } from './unsafe-lookup-get';
import { USE_AFTER_PUT, useAfterPut } from './use-after-put';
import { anyName, incompleteOf, makeEnv, type InterestEnv, type RefcountRule, type RefcountRuleContext, type RuleInterest } from './walk';

export type { InterestEnv, RefcountRule, RefcountRuleContext, RuleInterest } from './walk';

export const REFCOUNT_RULES: Readonly<Record<string, RefcountRule>> = {
  [UNCHECKED_GET_UNLESS_ZERO]: uncheckedGetUnlessZero,
  [GET_UNLESS_ZERO_OUTSIDE_LOOKUP]: getUnlessZeroOutsideLookup,
  [PUT_UNDER_RELEASE_LOCK]: putUnderReleaseLock,
  [FREE_WITHOUT_GRACE_PERIOD]: freeWithoutGracePeriod,
  [REF_LEAK]: refLeak,
  [USE_AFTER_PUT]: useAfterPut,
  [UNSAFE_LOOKUP_GET]: unsafeLookupGet,
};

/** Each rule's function filter: a function it rejects cannot get a finding from it. */
export const REFCOUNT_INTERESTS: Readonly<Record<string, RuleInterest>> = {
  [UNCHECKED_GET_UNLESS_ZERO]: condGetInterest,
  [GET_UNLESS_ZERO_OUTSIDE_LOOKUP]: condGetInterest,
  [PUT_UNDER_RELEASE_LOCK]: putUnderReleaseLockInterest,
  [FREE_WITHOUT_GRACE_PERIOD]: freeWithoutGracePeriodInterest,
  [REF_LEAK]: ownershipInterest,
  [USE_AFTER_PUT]: ownershipInterest,
  [UNSAFE_LOOKUP_GET]: unsafeLookupGetInterest,
};

/** Can any refcount rule report on the function `fn` that names `names` (walk.ts namesCalledIn)? */
export function refcountInterest(env: InterestEnv, fn: string, names: ReadonlySet<string>): boolean {
  // Every filter needs a refcount primitive, a free or a callee with a learned summary: most functions name none.
  const hot = hotNames(env);
  if (!anyName(names, (n) => hot.has(n))) return false;
  for (const interest of INTERESTS) if (interest(env, fn, names)) return true;
  return false;
}

const hotMemo = new WeakMap<object, Set<string>>();

/** Refcount primitives, frees, and the names of functions with a learned summary. */
function hotNames(env: InterestEnv): Set<string> {
  const key = env.index ?? env.rc;
  let hot = hotMemo.get(key);
  if (!hot) {
    hot = new Set([...env.rc.refOps.keys(), ...env.rc.frees.keys()]);
    for (const s of env.index?.summaries.values() ?? []) hot.add(s.name);
    hotMemo.set(key, hot);
  }
  return hot;
}

const INTERESTS = [...new Set(Object.values(REFCOUNT_INTERESTS))];

/** Rules that need the workspace index (silent without one). */
export const REFCOUNT_RULES_NEEDING_INDEX: readonly string[] = [PUT_UNDER_RELEASE_LOCK, FREE_WITHOUT_GRACE_PERIOD, UNSAFE_LOOKUP_GET];

/**
 * Run every refcount rule on a parsed file. `ctx.index` enables the index-based
 * rules and learned wrappers; `only` restricts to some rule ids. The functions
 * some rule's walk stopped early on (they yield no finding from that rule) are
 * appended to `incomplete` when given.
 */
export function runRefcountRules(
  parsed: ParsedFile, file: string, ctx: RefcountRuleContext, only?: ReadonlySet<string>, incomplete?: IncompleteFunction[],
): Finding[] {
  const out: Finding[] = [];
  for (const [id, rule] of Object.entries(REFCOUNT_RULES)) {
    if (only && !only.has(id)) continue;
    try {
      out.push(...rule(parsed, file, ctx));
    } catch {
      // a rule failing on one odd file must not lose the others' findings
    }
  }
  if (incomplete) incomplete.push(...incompleteOf(makeEnv(parsed, file, ctx)));
  return out;
}
