/**
 * A review of a change in the editor (pure): the findings of the changed files
 * at both ends, classified with matchFindings, each new one told whether it sits
 * on a line the change touched, and grouped by file and function for the
 * "Refscope Review" view.
 */
import type { Finding } from '../types';
import { changedLines } from './lines';
import { matchFindings, type MatchableFinding } from './match';

/** One changed file at both ends (null: absent at that end). */
export interface ReviewFileInput {
  /** Display path (relative to the repository), the same at both ends unless renamed. */
  path: string;
  /** Path at the older end when the file was renamed. */
  basePath?: string;
  base: { text: string; findings: readonly Finding[] } | null;
  head: { text: string; findings: readonly Finding[] } | null;
}

export type ReviewStatus = 'new' | 'fixed';

export interface ReviewItem {
  status: ReviewStatus;
  /** Display path of the end the finding is at (head for new, base for fixed). */
  path: string;
  finding: Finding;
  /** New findings: the finding's line (or one of its trace steps in the same file) was changed. */
  onChangedLine: boolean;
}

export interface ReviewFunctionGroup {
  name: string;
  items: ReviewItem[];
}

export interface ReviewFileGroup {
  path: string;
  introduced: number;
  fixed: number;
  functions: ReviewFunctionGroup[];
}

export interface ReviewComparison {
  items: ReviewItem[];
  unchanged: number;
  /** Head-end changed lines per display path. */
  changedLines: Map<string, Set<number>>;
}

interface Tagged extends MatchableFinding {
  finding: Finding;
  path: string;
}

function tag(f: Finding, path: string, fileKey: string): Tagged {
  return {
    rule: f.rule,
    // Match on display paths: the two ends' file keys differ (a git: URI and a file: URI).
    file: path,
    line: f.span.start.line,
    function: f.function,
    message: f.message,
    trace: f.trace.map((t) => ({ file: t.file === fileKey ? path : t.file, line: t.line, message: t.message })),
    finding: f,
    path,
  };
}

/**
 * Classify the findings of every changed file. Findings are matched across all
 * files at once, so a function moved from one file to another is unchanged.
 * `keyOf(path, end)` is the file key the findings of that end were produced with.
 */
export function compareReview(files: readonly ReviewFileInput[], keyOf: (path: string, end: 'base' | 'head') => string): ReviewComparison {
  const base: Tagged[] = [];
  const head: Tagged[] = [];
  const baseText = new Map<string, string>();
  const headText = new Map<string, string>();
  const renames = new Map<string, string>();
  const changed = new Map<string, Set<number>>();
  for (const f of files) {
    const bp = f.basePath ?? f.path;
    if (f.base) {
      baseText.set(bp, f.base.text);
      for (const x of f.base.findings) base.push(tag(x, bp, keyOf(bp, 'base')));
    }
    if (f.head) {
      headText.set(f.path, f.head.text);
      for (const x of f.head.findings) head.push(tag(x, f.path, keyOf(f.path, 'head')));
      changed.set(f.path, changedLines(f.base?.text ?? null, f.head.text).changed);
    }
    if (bp !== f.path) renames.set(bp, f.path);
  }
  const r = matchFindings<Tagged>(
    { findings: base, text: (p) => baseText.get(p) },
    { findings: head, text: (p) => headText.get(p) },
    { headFileOf: (p) => renames.get(p) ?? p },
  );
  const items: ReviewItem[] = [];
  for (const t of r.introduced) {
    const lines = changed.get(t.path);
    const on = lines !== undefined && (lines.has(t.line) || t.trace.some((s) => s.file === t.path && lines.has(s.line)));
    items.push({ status: 'new', path: t.path, finding: t.finding, onChangedLine: on });
  }
  for (const t of r.fixed) items.push({ status: 'fixed', path: t.path, finding: t.finding, onChangedLine: false });
  return { items, unchanged: r.unchanged.length, changedLines: changed };
}

/** Files (by path), functions (new findings first, then by line) and findings (new first, then by line). */
export function groupReview(items: readonly ReviewItem[]): ReviewFileGroup[] {
  const files = new Map<string, Map<string, ReviewItem[]>>();
  for (const it of items) {
    let fns = files.get(it.path);
    if (!fns) files.set(it.path, (fns = new Map()));
    const name = it.finding.function || '(file scope)';
    const g = fns.get(name);
    if (g) g.push(it);
    else fns.set(name, [it]);
  }
  const order = (a: ReviewItem, b: ReviewItem): number =>
    (a.status === b.status ? 0 : a.status === 'new' ? -1 : 1) || a.finding.span.start.line - b.finding.span.start.line || a.finding.rule.localeCompare(b.finding.rule);
  // Functions with new findings first (in head-end line order), then those with fixed ones only (base-end order).
  const rank = (xs: ReviewItem[]): number => (xs.some((x) => x.status === 'new') ? 0 : 1);
  const firstLine = (xs: ReviewItem[]): number => Math.min(...xs.filter((x) => x.status === xs[0]!.status).map((x) => x.finding.span.start.line));
  return [...files.entries()]
    .sort((a, b) => a[0].localeCompare(b[0]))
    .map(([path, fns]) => {
      const functions = [...fns.entries()]
        .map(([name, xs]) => ({ name, items: [...xs].sort(order) }))
        .sort((a, b) => rank(a.items) - rank(b.items) || firstLine(a.items) - firstLine(b.items) || a.name.localeCompare(b.name));
      const all = functions.flatMap((g) => g.items);
      return { path, introduced: all.filter((x) => x.status === 'new').length, fixed: all.filter((x) => x.status === 'fixed').length, functions };
    });
}
