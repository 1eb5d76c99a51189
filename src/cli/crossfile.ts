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
  /** Merged summaries, sorted by name: what a file outside any architecture's tree knows. */
  knowledge: FunctionSummary[];
  /**
   * Of those, the names defined in an architecture's tree (`arch/<a>/`), with
   * that architecture: a file in another architecture's tree cannot call them.
   */
  archOf: [name: string, arch: string][];
  /**
   * Per architecture, summaries its files know beyond `knowledge`: a name defined
   * non-statically in several architectures' trees (ambiguous, left out of
   * `knowledge`) but once among the files this architecture builds.
   */
  archAdds: [arch: string, summaries: FunctionSummary[]][];
  /** Indices (into the offers' list) of the files to analyse again. */
  reanalyse: number[];
  /** Names defined non-statically in more than one file (not used). */
  ambiguous: number;
}

/** A callee that takes a lock can change a caller's findings wherever it is called. */
function acquiresLock(s: FunctionSummary): boolean {
  return s.acquires.length + s.condAcquires.length > 0;
}

const byName = (a: FunctionSummary, b: FunctionSummary): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/**
 * `offers[i]` is file i's pass-1 information (undefined for skipped files and
 * headers, which offer nothing and are not re-analysed); `arches[i]` the
 * architecture whose tree file i is in (null or absent: none). The result
 * depends only on the offers, the arches and their order, never on which
 * worker produced them.
 */
export function planCrossFile(offers: readonly (CrossFileInfo | undefined)[], offering: readonly boolean[], arches: readonly (string | null)[] = []): CrossFilePlan {
  const merged = new Map<string, FunctionSummary>();
  /** Name -> the architecture of its first defining file (null: none). */
  const definedIn = new Map<string, string | null>();
  /** Names defined in several files -> the architectures of all of them, in file order. */
  const dup = new Map<string, (string | null)[]>();
  /** Names exported by several files -> [architecture, summary] of each, in file order. */
  const exports = new Map<string, [string | null, FunctionSummary][]>();
  const exportArch = new Map<string, string>();
  offers.forEach((o, i) => {
    if (!o || !offering[i]) return;
    const arch = arches[i] ?? null;
    for (const n of o.defined) {
      const first = definedIn.get(n);
      if (first === undefined) definedIn.set(n, arch);
      else {
        const l = dup.get(n);
        if (l) l.push(arch);
        else dup.set(n, [first, arch]);
      }
    }
    for (const s of o.exported) {
      const prev = merged.get(s.name);
      if (!prev) {
        merged.set(s.name, s);
        if (arch !== null) exportArch.set(s.name, arch);
        continue;
      }
      const l = exports.get(s.name);
      if (l) l.push([arch, s]);
      else exports.set(s.name, [[exportArch.get(s.name) ?? null, prev], [arch, s]]);
    }
  });
  // Each architecture's view: the names it can link to (files outside any arch tree, and its own).
  const addsOf = new Map<string, Map<string, FunctionSummary>>();
  const callerArches = new Set<string>();
  for (const a of arches) if (a) callerArches.add(a);
  for (const [n, defs] of dup) {
    const only = merged.get(n);
    merged.delete(n);
    if (defs.every((a) => a === null)) continue; // ambiguous for everyone
    const offered = exports.get(n) ?? (only ? [[exportArch.get(n) ?? null, only] as [string | null, FunctionSummary]] : []);
    for (const a of callerArches) {
      if (defs.filter((d) => d === null || d === a).length !== 1) continue;
      const s = offered.find(([d]) => d === null || d === a)?.[1];
      if (!s) continue;
      let m = addsOf.get(a);
      if (!m) addsOf.set(a, (m = new Map()));
      m.set(n, s);
    }
  }
  const archOf: [string, string][] = [];
  for (const n of merged.keys()) {
    const a = definedIn.get(n);
    if (a) archOf.push([n, a]);
  }
  archOf.sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
  const nameArch = new Map(archOf);
  const known = (n: string, arch: string | null): FunctionSummary | undefined => {
    if (arch === null) return merged.get(n);
    const a = nameArch.get(n);
    if (a !== undefined && a !== arch) return undefined;
    return merged.get(n) ?? addsOf.get(arch)?.get(n);
  };
  const reanalyse: number[] = [];
  offers.forEach((o, i) => {
    if (!o) return;
    const arch = arches[i] ?? null;
    // releasing callees matter only where a lock is held (or was released: a double unlock)
    const lock = o.unresolved.any.some((n) => {
      const s = known(n, arch);
      return s !== undefined && acquiresLock(s);
    }) || o.unresolved.held.some((n) => (known(n, arch)?.releases.length ?? 0) > 0);
    // (A callee in another file that only takes and releases a lock would add a lock-order edge where
    // it is called with a lock held; re-analysing for that alone quadrupled this pass on drm, so those
    // cross-file edges are not collected: a known gap of lock-order-inversion.)
    if (lock || o.unresolved.atomic.some((n) => known(n, arch)?.maySleep === true)) reanalyse.push(i);
  });
  const knowledge = [...merged.values()].sort(byName);
  const archAdds: [string, FunctionSummary[]][] = [...addsOf].map(([a, m]) => [a, [...m.values()].sort(byName)] as [string, FunctionSummary[]]);
  archAdds.sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
  return { knowledge, archOf, archAdds, reanalyse, ambiguous: dup.size };
}
