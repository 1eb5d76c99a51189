/**
 * `lock-order-inversion`: two lock classes taken in opposite orders on paths
 * anywhere in the workspace (ABBA), with both paths in the trace.
 *
 * Two steps, so that hosts can split the work:
 * 1. per file, `lockOrderEdgesOf(analysis)` (or `lockOrderEdges(parser, text, ...)`,
 *    or `analyzeFile(..., { lockOrder: true }).lockOrder`) lists the ordered
 *    pairs the lock dataflow saw: class `from` certainly held when class `to` is
 *    acquired, directly or inside a callee whose summary takes it
 *    (FunctionSummary.takes; same-file summaries and the `knowledge` the host
 *    passes). Plain JSON: CLI workers ship them to the main thread.
 * 2. `findLockOrderInversions(edges)` over all files' edges (or one file's, in
 *    the editor) reports each inverted pair once.
 *
 * Lock classes come from analysis/locks.ts (`struct T.field` through a typed
 * pointer, a global's name). Not pairs: a class with itself (instances of one
 * class, parent/child nesting: double-lock's business), a `*_nested` /
 * `*_nest_lock` acquire against the plain class (a lockdep subclass: intended
 * nesting), a trylock as the inner acquire (it cannot wait), locks known only
 * by an expression (untyped locals, calls), conditional (maybe-held) locks.
 */
import { analyzeFunctions, type FileAnalysis, type LockOrderRecord } from '../analysis/locks';
import { builtinCatalog, type Catalog } from '../catalog/index';
import type { FunctionSummary } from '../index/summaries';
import type { CParser } from '../parse/parser';
import { parseKernelC } from '../parse/source';
import type { Finding, LockOrderEdge, TraceStep } from '../types';
import { spanOf } from './common';
import { ruleMeta } from './registry';

export const LOCK_ORDER_INVERSION = 'lock-order-inversion';

function short(cls: string): string {
  return cls.replace(/^struct /, '');
}

function edgeOf(r: LockOrderRecord, file: string, fn: string): LockOrderEdge {
  const trace: TraceStep[] = [
    { file, line: r.fromLine, column: 1, message: r.fromVia === 'held on entry' ? `${short(r.from)} held on entry to ${fn}() (${r.fromText})` : `${short(r.from)} acquired by ${r.fromVia}(${r.fromText})` },
  ];
  if (r.callee) {
    trace.push({ file, line: r.at.line, column: r.at.column, message: `${r.via}() called with ${short(r.from)} held` });
    trace.push({ file: r.callee.file, line: r.callee.line, column: 1, message: `${short(r.to)} acquired inside ${r.via}() (${r.callee.via})` });
  } else {
    trace.push({ file, line: r.at.line, column: r.at.column, message: `${short(r.to)} acquired by ${r.via}(${r.toText}) while ${short(r.from)} is held` });
  }
  return {
    from: r.from, to: r.to, file, function: fn, fromLine: r.fromLine, toLine: r.at.line, span: spanOf(r.at), trace,
    ...(r.fromShared ? { fromShared: true } : {}), ...(r.toShared ? { toShared: true } : {}),
  };
}

/** Lock-order edges of an analysed file (analyzeFunctions called with `lockOrder` true). */
export function lockOrderEdgesOf(fa: FileAnalysis, file: string): LockOrderEdge[] {
  const out: LockOrderEdge[] = [];
  for (const f of fa.functions) for (const r of f.order ?? []) out.push(edgeOf(r, file, f.name));
  return out;
}

export interface LockOrderOptions {
  catalog?: Catalog;
  /** Summaries of functions defined elsewhere (headers, other files), as for analyzeFile. */
  knowledge?: ReadonlyMap<string, FunctionSummary>;
}

let defaultCatalog: Catalog | undefined;

/** Parse and analyse one file for its lock-order edges only (the editor; tests). */
export function lockOrderEdges(parser: CParser, text: string, file: string, options: LockOrderOptions = {}): LockOrderEdge[] {
  const parsed = parseKernelC(parser, text);
  try {
    const fa = analyzeFunctions(parsed, file, options.catalog ?? (defaultCatalog ??= builtinCatalog()), options.knowledge, false, undefined, true);
    return lockOrderEdgesOf(fa, file);
  } finally {
    parsed.dispose();
  }
}

function order(a: LockOrderEdge, b: LockOrderEdge): number {
  return a.file < b.file ? -1 : a.file > b.file ? 1 : a.span.start.offset - b.span.start.offset || (a.function < b.function ? -1 : a.function > b.function ? 1 : 0);
}

/** A reader of a read-nesting lock never waits for another reader: that pair of paths cannot deadlock. */
function canDeadlock(ab: LockOrderEdge, ba: LockOrderEdge): boolean {
  return !(ab.toShared && ba.fromShared) && !(ba.toShared && ab.fromShared);
}

function where(e: LockOrderEdge): string {
  return `${e.function}() at ${e.file}:${e.toLine}`;
}

/**
 * Each pair of classes acquired in both orders, reported once: at the first
 * (by file and position) of the two acquires, with both paths in the trace.
 * Deterministic for any order of `edges`.
 */
export function findLockOrderInversions(edges: readonly LockOrderEdge[]): Finding[] {
  const byPair = new Map<string, LockOrderEdge[]>();
  for (const e of edges) {
    if (e.from === e.to) continue;
    const k = `${e.from}\u0000${e.to}`;
    const l = byPair.get(k);
    if (l) l.push(e);
    else byPair.set(k, [e]);
  }
  const meta = ruleMeta(LOCK_ORDER_INVERSION);
  const out: Finding[] = [];
  for (const [k, abs] of byPair) {
    const [a, b] = k.split('\u0000') as [string, string];
    if (a > b) continue; // each unordered pair once
    const bas = byPair.get(`${b}\u0000${a}`);
    if (!bas) continue;
    abs.sort(order);
    bas.sort(order);
    let pair: [LockOrderEdge, LockOrderEdge] | null = null;
    for (const x of abs) {
      const y = bas.find((e) => canDeadlock(x, e));
      if (y) {
        pair = [x, y];
        break;
      }
    }
    if (!pair) continue;
    const [first, second] = order(pair[0], pair[1]) <= 0 ? pair : [pair[1], pair[0]];
    const others = abs.length + bas.length - 2;
    out.push({
      rule: LOCK_ORDER_INVERSION,
      severity: meta?.defaultSeverity ?? 'warning',
      file: first.file,
      span: first.span,
      function: first.function,
      message: `\`${short(first.to)}\` is acquired here while \`${short(first.from)}\` is held, but ${where(second)} acquires \`${short(second.to)}\` while holding \`${short(second.from)}\`: `
        + `two tasks running these paths can deadlock (ABBA)${others > 0 ? `; ${others} more place${others > 1 ? 's take' : ' takes'} these locks in one of the two orders` : ''}. `
        + 'Take the two locks in one documented order everywhere.',
      scenario: meta?.scenario ?? null,
      trace: [
        ...first.trace.map((t) => ({ ...t, message: `path 1 (${first.function}): ${t.message}` })),
        ...second.trace.map((t) => ({ ...t, message: `path 2 (${second.function}): ${t.message}` })),
      ],
    });
  }
  return out.sort((x, y) => (x.file < y.file ? -1 : x.file > y.file ? 1 : x.span.start.offset - y.span.start.offset));
}
