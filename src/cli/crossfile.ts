/**
 * Cross-file knowledge for `refscope check`: after pass 1 every analysed `.c`
 * file offers the summaries of its non-static functions and names the callees it
 * could not resolve. This module merges the offers (deterministically: a name
 * defined non-statically in two files is ambiguous and dropped) and picks the
 * files whose result a second analysis with the merged summaries could change.
 */
import type { CrossFileInfo } from '../core/analyze';
import type { FunctionSummary } from '../core/index/summaries';

export interface CrossFilePlan {
  /** Merged summaries, sorted by name. */
  knowledge: FunctionSummary[];
  /** Indices (into the offers' list) of the files to analyse again. */
  reanalyse: number[];
  /** Names defined non-statically in more than one file (not used). */
  ambiguous: number;
}

/** A callee that takes a lock can change a caller's findings wherever it is called. */
function acquiresLock(s: FunctionSummary): boolean {
  return s.acquires.length + s.condAcquires.length > 0;
}

/**
 * `offers[i]` is file i's pass-1 information (undefined for skipped files and
 * headers, which offer nothing and are not re-analysed). The result depends only
 * on the offers and their order, never on which worker produced them.
 */
export function planCrossFile(offers: readonly (CrossFileInfo | undefined)[], offering: readonly boolean[]): CrossFilePlan {
  const merged = new Map<string, FunctionSummary>();
  const definedIn = new Set<string>();
  const dup = new Set<string>();
  offers.forEach((o, i) => {
    if (!o || !offering[i]) return;
    for (const n of o.defined) {
      if (definedIn.has(n)) dup.add(n);
      else definedIn.add(n);
    }
    for (const s of o.exported) if (!merged.has(s.name)) merged.set(s.name, s);
  });
  for (const n of dup) merged.delete(n);
  const reanalyse: number[] = [];
  offers.forEach((o, i) => {
    if (!o) return;
    // releasing callees matter only where a lock is held (or was released: a double unlock)
    const lock = o.unresolved.any.some((n) => {
      const s = merged.get(n);
      return s !== undefined && acquiresLock(s);
    }) || o.unresolved.held.some((n) => (merged.get(n)?.releases.length ?? 0) > 0);
    // (A callee in another file that only takes and releases a lock would add a lock-order edge where
    // it is called with a lock held; re-analysing for that alone quadrupled this pass on drm, so those
    // cross-file edges are not collected: a known gap of lock-order-inversion.)
    if (lock || o.unresolved.atomic.some((n) => merged.get(n)?.maySleep === true)) reanalyse.push(i);
  });
  const knowledge = [...merged.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { knowledge, reanalyse, ambiguous: dup.size };
}
