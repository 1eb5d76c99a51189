/**
 * Lifecycle impact of a change (pure): which functions of a refcounted type's
 * lifecycle (get/put wrappers, lookups, publish/unpublish sites, release
 * callbacks, role functions) a change touched, and how the explorer's verdict
 * of each combination of roles differs between the two ends. Combinations are
 * matched by their role names (`lookup:widget_find + put:widget_put`), which
 * name functions, never lines.
 */
import type { FunctionFact } from '../index/facts';
import type { CombinationResult, LifecycleModel } from '../sim/lifecycle';
import type { SimTraceStep, Verdict } from '../sim/types';

/** Every function that takes part in the lifecycle of the model's type. */
export function lifecycleFunctions(lm: LifecycleModel): Set<string> {
  const s = new Set<string>([...lm.gets, ...lm.puts]);
  for (const r of lm.releaseCallbacks) s.add(r.function);
  for (const l of lm.lookups) {
    s.add(l.function);
    if (l.via) s.add(l.via);
  }
  for (const st of lm.structures) for (const site of [...st.publish, ...st.unpublish]) s.add(site.fn);
  for (const r of lm.roles) s.add(r.function);
  return s;
}

/** Functions of a file whose lines (1-based, inclusive ranges of the definition) contain one of `lines`. */
export function functionsOnLines(functions: readonly FunctionFact[], lines: ReadonlySet<number>): FunctionFact[] {
  if (lines.size === 0) return [];
  const sorted = [...lines].sort((a, b) => a - b);
  return functions.filter((f) => {
    // First changed line >= f.line, by binary search.
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (sorted[mid]! < f.line) lo = mid + 1;
      else hi = mid;
    }
    return lo < sorted.length && sorted[lo]! <= f.endLine;
  });
}

export type EndVerdict = Verdict | 'absent';

export interface CombinationChange {
  roles: string[];
  base: EndVerdict;
  head: EndVerdict;
  /** Violation kinds at each end. */
  baseKinds: string[];
  headKinds: string[];
  /** The violation that explains the change: the head's for an introduced race, the base's for a fixed one. */
  violation?: { kind: string; message: string; trace: SimTraceStep[] };
  /**
   * `introduces`: a violation at the head only, or a kind of violation only the head has;
   * `fixes`: the reverse; `changes`: other differences (kinds both added and removed, incomplete).
   */
  status: 'introduces' | 'fixes' | 'changes';
}

export interface LifecycleImpact {
  type: string;
  status: 'introduces' | 'fixes' | 'changes' | 'unchanged';
  /** The lifecycle functions the change touched. */
  touched: string[];
  /** Overall verdict at each end: `violation` if any combination has one, `safe` if all are safe, else `incomplete`. */
  base: EndVerdict;
  head: EndVerdict;
  combinations: number;
  changes: CombinationChange[];
}

function overall(rs: readonly CombinationResult[] | null): EndVerdict {
  if (rs === null) return 'absent';
  if (rs.some((r) => r.verdict === 'violation')) return 'violation';
  return rs.every((r) => r.verdict === 'safe') ? 'safe' : 'incomplete';
}

const key = (roles: readonly string[]) => [...roles].sort().join(' + ');
const kinds = (r: CombinationResult | undefined) => [...new Set(r?.violations.map((v) => v.kind) ?? [])].sort();

/**
 * Compare the verdicts of a type's combinations at both ends (null: the type
 * is not refcounted, or not found, at that end).
 */
export function compareLifecycle(type: string, touched: readonly string[], base: readonly CombinationResult[] | null, head: readonly CombinationResult[] | null): LifecycleImpact {
  const b = new Map((base ?? []).map((r) => [key(r.roles), r]));
  const h = new Map((head ?? []).map((r) => [key(r.roles), r]));
  const changes: CombinationChange[] = [];
  for (const k of [...new Set([...b.keys(), ...h.keys()])].sort()) {
    const br = b.get(k);
    const hr = h.get(k);
    const bv: EndVerdict = br?.verdict ?? 'absent';
    const hv: EndVerdict = hr?.verdict ?? 'absent';
    const bk = kinds(br);
    const hk = kinds(hr);
    if (bv === hv && bk.join() === hk.join()) continue;
    // A combination that exists at one end only and is safe there is no change of verdict.
    if ((bv === 'absent' && hv === 'safe') || (hv === 'absent' && bv === 'safe')) continue;
    let status: CombinationChange['status'];
    let v;
    if (hv === 'violation' && bv !== 'violation') {
      status = 'introduces';
      v = hr!.violations[0];
    } else if (bv === 'violation' && hv !== 'violation') {
      status = 'fixes';
      v = br!.violations[0];
    } else {
      // Both ends violate (or one is incomplete): a kind of violation only the newer end has is a
      // new race, one only the older end has a fixed one.
      const added = hv === 'violation' && bv === 'violation' ? hk.filter((k) => !bk.includes(k)) : [];
      const removed = hv === 'violation' && bv === 'violation' ? bk.filter((k) => !hk.includes(k)) : [];
      status = added.length && !removed.length ? 'introduces' : removed.length && !added.length ? 'fixes' : 'changes';
      v = status === 'fixes' ? br?.violations.find((x) => removed.includes(x.kind)) : hr?.violations.find((x) => !bk.includes(x.kind)) ?? br?.violations.find((x) => !hk.includes(x.kind));
    }
    changes.push({
      roles: (hr ?? br)!.roles,
      base: bv,
      head: hv,
      baseKinds: bk,
      headKinds: hk,
      ...(v ? { violation: { kind: v.kind, message: v.message, trace: v.trace } } : {}),
      status,
    });
  }
  const status: LifecycleImpact['status'] = changes.some((c) => c.status === 'introduces')
    ? 'introduces'
    : changes.some((c) => c.status === 'fixes')
      ? 'fixes'
      : changes.length
        ? 'changes'
        : 'unchanged';
  return { type, status, touched: [...touched].sort(), base: overall(base), head: overall(head), combinations: new Set([...b.keys(), ...h.keys()]).size, changes };
}

/** One line for a report: "introduces a race in struct widget (lookup:widget_find + put:widget_put: safe -> violation [increment-from-zero])". */
export function describeImpact(i: LifecycleImpact): string {
  const what = i.status === 'introduces' ? `introduces a race in ${i.type}` : i.status === 'fixes' ? `fixes a race in ${i.type}` : i.status === 'changes' ? `changes the lifecycle verdict of ${i.type}` : `${i.type}: lifecycle verdict unchanged (${i.head})`;
  const parts = i.changes.map((c) => `${c.roles.join(' + ')}: ${c.base}${c.baseKinds.length ? ` [${c.baseKinds.join(', ')}]` : ''} -> ${c.head}${c.headKinds.length ? ` [${c.headKinds.join(', ')}]` : ''}`);
  return parts.length ? `${what} (${parts.join('; ')})` : what;
}
