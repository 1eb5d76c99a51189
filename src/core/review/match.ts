/**
 * New/fixed matching of findings between two ends of a change (pure).
 *
 * A finding is identified by what it says about the code, never by absolute line
 * numbers: its rule, its function, its message with line numbers stripped, and
 * its anchors (the finding's own line and every trace step) as normalised source
 * text. Line shifts, unrelated edits and a function moved within or between files
 * therefore leave a finding "unchanged". Findings with equal identity are paired
 * as multisets; when one end has more of them, the extra ones are those whose
 * position relative to their function start has no counterpart. A second pass
 * pairs the remaining findings of the same rule, function and message that sit at
 * the same offset inside their function (the anchor line itself was edited).
 */

export interface MatchTraceStep {
  file: string;
  line: number;
  message: string;
}

export interface MatchableFinding {
  rule: string;
  file: string;
  line: number;
  function: string;
  message: string;
  trace: readonly MatchTraceStep[];
}

/** One end of the change: its findings and the text of the files they point into. */
export interface ReviewEnd<T extends MatchableFinding> {
  findings: readonly T[];
  /** The content of `file` at this end, when known (anchors in other files match by message only). */
  text(file: string): string | undefined;
}

export interface MatchOptions {
  /** Name of a base-end file at the head end (renames); default: the same name. */
  headFileOf?(baseFile: string): string;
}

export interface MatchResult<T> {
  /** Findings at the head end with no counterpart at the base end. */
  introduced: T[];
  /** Findings at the base end with no counterpart at the head end. */
  fixed: T[];
  /** Pairs [base, head] of the same finding. */
  unchanged: Array<[T, T]>;
}

/** `acquired at line 6` / `lines 3 and 7` -> `acquired at line #`; `foo.c:12` -> `foo.c:#`. */
export function stripLineNumbers(message: string): string {
  return message
    .replace(/\blines? \d+(?:(?:, | and | or |-|–)\d+)*/g, 'line #')
    .replace(/(\.[ch]):\d+(?::\d+)?/g, '$1:#')
    .replace(/\s+/g, ' ')
    .trim();
}

/** Source text of a line, comments and whitespace normalised away. */
export function normaliseLine(line: string): string {
  return line
    .replace(/\/\*.*?\*\//g, ' ')
    .replace(/\/\/.*$/, '')
    .replace(/\s+/g, ' ')
    .trim();
}

class Lines {
  private readonly cache = new Map<string, string[] | null>();
  constructor(private readonly text: (file: string) => string | undefined) {}
  of(file: string): string[] | null {
    let v = this.cache.get(file);
    if (v === undefined) {
      const t = this.text(file);
      v = t === undefined ? null : t.split(/\r?\n/);
      this.cache.set(file, v);
    }
    return v;
  }
  line(file: string, n: number): string | undefined {
    const l = this.of(file);
    return l && n >= 1 && n <= l.length ? l[n - 1] : undefined;
  }
  /**
   * Line of the definition of `fn` at or above `line` (kernel style: the
   * declarator `name(` starts a line at column 0, or the name follows a return
   * type there). Undefined when not found.
   */
  functionStart(file: string, fn: string, line: number): number | undefined {
    const l = this.of(file);
    if (!l || !fn) return undefined;
    const re = new RegExp(`^[A-Za-z_].*\\b${fn.replace(/[^A-Za-z0-9_]/g, '')}\\s*\\(`);
    for (let i = Math.min(line, l.length) - 1; i >= 0; i--) if (re.test(l[i]!)) return i + 1;
    return undefined;
  }
}

interface Keyed<T> {
  f: T;
  file: string;
  identity: string;
  loose: string;
  /** Line offset from the function start (or the absolute line when unknown). */
  offset: number;
}

function keyed<T extends MatchableFinding>(f: T, lines: Lines, fileName: (file: string) => string): Keyed<T> {
  const anchor = (file: string, line: number): string => {
    const t = lines.line(file, line);
    return t === undefined ? '?' : normaliseLine(t);
  };
  const file = fileName(f.file);
  const steps = f.trace.map((t) => `${t.file === f.file ? '' : fileName(t.file)}|${anchor(t.file, t.line)}|${stripLineNumbers(t.message)}`);
  const loose = `${f.rule}\0${f.function}\0${stripLineNumbers(f.message)}`;
  const identity = `${loose}\0${anchor(f.file, f.line)}\0${steps.join('\0')}`;
  const start = lines.functionStart(f.file, f.function, f.line);
  return { f, file, identity, loose, offset: start === undefined ? f.line : f.line - start };
}

function groupBy<V>(xs: readonly V[], key: (v: V) => string): Map<string, V[]> {
  const m = new Map<string, V[]>();
  for (const x of xs) {
    const k = key(x);
    const g = m.get(k);
    if (g) g.push(x);
    else m.set(k, [x]);
  }
  return m;
}

/**
 * Pair base and head findings of one group. Prefers the same file, then the
 * closest offset inside the function; returns the leftovers of each side.
 */
function pairGroup<T>(base: Keyed<T>[], head: Keyed<T>[], out: Array<[T, T]>, requireOffset: boolean): { base: Keyed<T>[]; head: Keyed<T>[] } {
  const cand: Array<{ b: number; h: number; cost: number }> = [];
  for (let b = 0; b < base.length; b++) {
    for (let h = 0; h < head.length; h++) {
      const d = Math.abs(base[b]!.offset - head[h]!.offset);
      if (requireOffset && (d !== 0 || base[b]!.file !== head[h]!.file)) continue;
      cand.push({ b, h, cost: (base[b]!.file === head[h]!.file ? 0 : 1_000_000) + d * 1000 + Math.abs(b - h) });
    }
  }
  cand.sort((x, y) => x.cost - y.cost || x.b - y.b || x.h - y.h);
  const usedB = new Set<number>();
  const usedH = new Set<number>();
  for (const c of cand) {
    if (usedB.has(c.b) || usedH.has(c.h)) continue;
    usedB.add(c.b);
    usedH.add(c.h);
    out.push([base[c.b]!.f, head[c.h]!.f]);
  }
  return { base: base.filter((_, i) => !usedB.has(i)), head: head.filter((_, i) => !usedH.has(i)) };
}

/** Classify the findings of two ends as introduced, fixed or unchanged. */
export function matchFindings<T extends MatchableFinding>(base: ReviewEnd<T>, head: ReviewEnd<T>, opts: MatchOptions = {}): MatchResult<T> {
  const headName = opts.headFileOf ?? ((f: string) => f);
  const baseLines = new Lines((f) => base.text(f));
  const headLines = new Lines((f) => head.text(f));
  const b = base.findings.map((f) => keyed(f, baseLines, headName));
  const h = head.findings.map((f) => keyed(f, headLines, (x) => x));
  const unchanged: Array<[T, T]> = [];
  const leftB: Keyed<T>[] = [];
  const leftH: Keyed<T>[] = [];
  const hg = groupBy(h, (k) => k.identity);
  for (const [id, bs] of groupBy(b, (k) => k.identity)) {
    const r = pairGroup(bs, hg.get(id) ?? [], unchanged, false);
    hg.delete(id);
    leftB.push(...r.base);
    leftH.push(...r.head);
  }
  for (const hs of hg.values()) leftH.push(...hs);
  // Second pass: the anchor line itself was edited, the finding stayed where it was.
  const introduced: T[] = [];
  const fixed: T[] = [];
  const lg = groupBy(leftH, (k) => k.loose);
  for (const [id, bs] of groupBy(leftB, (k) => k.loose)) {
    const r = pairGroup(bs, lg.get(id) ?? [], unchanged, true);
    lg.delete(id);
    fixed.push(...r.base.map((k) => k.f));
    introduced.push(...r.head.map((k) => k.f));
  }
  for (const hs of lg.values()) introduced.push(...hs.map((k) => k.f));
  return { introduced, fixed, unchanged };
}
