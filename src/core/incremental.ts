/**
 * Incremental analysis of one open document (the editor's path): keeps the
 * tree-sitter tree and per-function results between edits. After an edit that
 * stays inside one function body, only that function's text is normalised
 * again (the normaliser is local: a function normalises the same alone as in
 * its file), the old tree is `edit()`ed and re-parsed incrementally, and only
 * the functions whose text changed are analysed again (findings and hints);
 * every other function's results are reused, moved by the line/offset delta.
 * When a changed function's summary (its lock effect as callers see it)
 * changes, or the edit touches anything outside function bodies, the whole
 * file is analysed again. Results equal a full `analyzeFile` + `computeHints`.
 */
import { Parser, type Edit, type Point, type Tree } from 'web-tree-sitter';
import { analyzeFile, countIncomplete, type AnalyzeOptions } from './analyze';
import { builtinCatalog, type Catalog } from './catalog/index';
import { computeHints, shiftFunctionHints, type FileHints, type FunctionHints } from './hints';
import type { FunctionSummary } from './index/summaries';
import { analyzeFunctions } from './analysis/locks';
import { normalizeKernelC } from './parse/normalize';
import type { CParser } from './parse/parser';
import { listFunctions, type FunctionInfo, type ParsedFile } from './parse/source';
import type { SyntaxTree } from './parse/syntax';
import type { FileResult, Finding, IncompleteFunction, Position, Span } from './types';
import { utf8ByteLength } from './util/text';

export interface EditorAnalysis {
  result: FileResult;
  hints: FileHints;
  /** How this update was done (for logs and the latency bench). */
  mode: 'full' | 'incremental' | 'unchanged';
  /** Functions analysed in this update (all of them for a full analysis). */
  functionsAnalysed: number;
}

interface FnEntry {
  name: string;
  text: string;
  start: number;
  line: number;
  findings: Finding[];
  /** The function's incomplete analyses (FileResult.incomplete), at its current line. */
  incomplete: IncompleteFunction[];
  hints: FunctionHints | undefined;
}

interface State {
  text: string;
  normalized: string;
  /** The parser's tree, kept for the next edit's incremental re-parse. */
  tree: Tree;
  /** Its copy the analyses read. */
  flat: SyntaxTree;
  functions: FunctionInfo[];
  entries: FnEntry[];
  /** Text between consecutive functions (and before the first / after the last). */
  gaps: string[];
  /** Summaries of the file's own functions (computed by `warm()` or on the first edit). */
  summaries: Map<string, FunctionSummary> | undefined;
  /** File-level findings that belong to no function. */
  other: Finding[];
  result: FileResult;
  hints: FileHints;
}

function shiftPos(p: Position, dLine: number, dOff: number): Position {
  return { line: p.line + dLine, column: p.column, offset: p.offset + dOff };
}

function shiftSpan(s: Span, dLine: number, dOff: number): Span {
  return { start: shiftPos(s.start, dLine, dOff), end: shiftPos(s.end, dLine, dOff) };
}

function shiftFinding(f: Finding, file: string, dLine: number, dOff: number): Finding {
  if (dLine === 0 && dOff === 0) return f;
  return {
    ...f,
    span: shiftSpan(f.span, dLine, dOff),
    trace: f.trace.map((s) => (s.file === file ? { ...s, line: s.line + dLine } : s)),
  };
}

function pointAt(text: string, offset: number): Point {
  const lineStart = text.lastIndexOf('\n', offset - 1) + 1;
  let row = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) row++;
  return { row, column: offset - lineStart };
}

function gapsOf(text: string, fns: readonly FunctionInfo[]): string[] {
  const out: string[] = [];
  let at = 0;
  for (const f of fns) {
    out.push(text.slice(at, f.node.startIndex));
    at = f.node.endIndex;
  }
  out.push(text.slice(at));
  return out;
}

/** A summary as callers see it: positions left out (an inserted line moves them without changing the effect). */
function summaryKey(s: FunctionSummary): string {
  return JSON.stringify(s, (k, v: unknown) => (k === 'line' || k === 'column' || k === 'offset' || k === 'file' ? undefined : v));
}

/** Which function (index) each finding belongs to, by offset; -1 for none. */
function ownerOf(fns: readonly FunctionInfo[], offset: number): number {
  let lo = 0;
  let hi = fns.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const f = fns[mid]!.node;
    if (offset < f.startIndex) hi = mid - 1;
    else if (offset >= f.endIndex) lo = mid + 1;
    else return mid;
  }
  return -1;
}

/**
 * Text input for the parser in bounded chunks: a string input makes
 * web-tree-sitter copy the whole rest of the file at every position it reads,
 * which an incremental re-parse does many times.
 */
function chunked(text: string): (index: number) => string {
  return (index) => text.slice(index, index + 8192);
}

export class IncrementalAnalyzer {
  private state: State | undefined;
  private readonly parser: Parser;
  private readonly catalog: Catalog;

  constructor(
    private readonly cparser: CParser,
    private readonly file: string,
    private readonly options: Pick<AnalyzeOptions, 'catalog' | 'knowledge'> = {},
  ) {
    // A parser of our own: incremental parses need `parse(text, oldTree)`.
    this.parser = new Parser();
    this.parser.setLanguage(cparser.language);
    this.catalog = options.catalog ?? builtinCatalog();
  }

  /** Analyse the document's new text, reusing what the previous text's analysis allows. */
  update(text: string): EditorAnalysis {
    const prev = this.state;
    if (prev && prev.text === text) return { result: prev.result, hints: prev.hints, mode: 'unchanged', functionsAnalysed: 0 };
    if (prev) {
      try {
        const r = this.incremental(prev, text);
        if (r) return r;
      } catch {
        // fall back to a full analysis
      }
    }
    return this.full(text);
  }

  /**
   * Estimated memory held for the last text, in bytes: 32 per UTF-16 unit
   * (measured on Linux 6.12 files: some 12 B/char of JS heap for the text, the
   * normalised copy, findings and hints, the rest for the syntax tree in the
   * parser's WASM memory). Hosts bound their caches with it.
   */
  approxBytes(): number {
    return (this.state?.text.length ?? 0) * 32;
  }

  dispose(): void {
    this.state?.tree.delete();
    this.state = undefined;
    this.parser.delete();
  }

  private parsedOf(text: string, normalized: string, tree: SyntaxTree, functions: FunctionInfo[]): ParsedFile {
    return { text, normalized, tree, functions, dispose: () => undefined };
  }

  private full(text: string): EditorAnalysis {
    this.state?.tree.delete();
    this.state = undefined;
    const normalized = normalizeKernelC(text);
    const tree = this.parser.parse(chunked(normalized));
    if (!tree) throw new Error('tree-sitter returned no tree');
    const flat = this.cparser.flatten(tree, normalized);
    const functions = listFunctions(flat.rootNode);
    const parsed = this.parsedOf(text, normalized, flat, functions);
    const result = analyzeFile(this.cparser, text, this.file, { ...this.options, catalog: this.catalog, reuse: { parsed } });
    const hints = computeHints(parsed, this.file, this.catalog);
    const hintsByStart = new Map(hints.functions.map((h) => [h.span.start.offset, h]));
    const entries: FnEntry[] = functions.map((f) => ({
      name: f.name,
      text: text.slice(f.node.startIndex, f.node.endIndex),
      start: f.node.startIndex,
      line: f.node.startPosition.row + 1,
      findings: [],
      incomplete: [],
      hints: hintsByStart.get(f.node.startIndex),
    }));
    const other: Finding[] = [];
    for (const fd of result.findings) {
      const i = ownerOf(functions, fd.span.start.offset);
      if (i >= 0) entries[i]!.findings.push(fd);
      else other.push(fd);
    }
    for (const inc of result.incomplete ?? []) entries.find((e) => e.line === inc.line && e.name === inc.function)?.incomplete.push(inc);
    this.state = { text, normalized, tree, flat, functions, entries, gaps: gapsOf(text, functions), summaries: undefined, other, result, hints };
    return { result, hints, mode: 'full', functionsAnalysed: functions.length };
  }

  /**
   * Prepare for fast edits: the summaries of the file's own functions (one
   * more lock analysis pass without findings). Hosts call it when idle after a
   * full analysis; otherwise the first incremental edit does it.
   */
  warm(): void {
    const st = this.state;
    if (!st || st.summaries) return;
    st.summaries = this.summariesOf(this.parsedOf(st.text, st.normalized, st.flat, st.functions), st.functions, this.options.knowledge);
  }

  /** Summaries of the functions as their callers see them (lock effects, may sleep), by name. */
  private summariesOf(parsed: ParsedFile, only: FunctionInfo[], knowledge: ReadonlyMap<string, FunctionSummary> | undefined): Map<string, FunctionSummary> {
    const fa = analyzeFunctions({ ...parsed, functions: only }, this.file, this.catalog, knowledge, false);
    return new Map(fa.summaries.filter((s) => s.definition).map((s) => [s.name, s]));
  }

  private incremental(prev: State, text: string): EditorAnalysis | undefined {
    // The summaries of the previous text, from its (still unedited) tree.
    if (!prev.summaries) this.warm();
    if (!prev.summaries) return undefined;
    const old = prev.text;
    // The edit: common prefix and suffix.
    const max = Math.min(old.length, text.length);
    let p = 0;
    while (p < max && old.charCodeAt(p) === text.charCodeAt(p)) p++;
    let s = 0;
    while (s < max - p && old.charCodeAt(old.length - 1 - s) === text.charCodeAt(text.length - 1 - s)) s++;
    const oldEnd = old.length - s;
    const newEnd = text.length - s;
    const delta = text.length - old.length;
    // It must lie inside one function's body (strictly between its braces).
    const i = ownerOf(prev.functions, p);
    if (i < 0) return undefined;
    const fn = prev.functions[i]!.node;
    const body = fn.childForFieldName('body');
    if (!body || p <= body.startIndex || oldEnd >= body.endIndex) return undefined;
    // Normalise only that function again and splice it in.
    const fnStart = fn.startIndex;
    const fnEndNew = fn.endIndex + delta;
    const normalized = prev.normalized.slice(0, fnStart) + normalizeKernelC(text.slice(fnStart, fnEndNew)) + prev.normalized.slice(fn.endIndex);
    if (normalized.length !== text.length) return undefined;
    const edit: Edit = {
      startIndex: p,
      oldEndIndex: oldEnd,
      newEndIndex: newEnd,
      startPosition: pointAt(old, p),
      oldEndPosition: pointAt(old, oldEnd),
      newEndPosition: pointAt(text, newEnd),
    } as Edit;
    const oldTree = prev.tree;
    oldTree.edit(edit);
    const tree = this.parser.parse(chunked(normalized), oldTree);
    if (!tree) return undefined;
    // Every function but the edited one is the same text, before it or moved by delta:
    // its flat subtree is copied from the last copy instead of walked again.
    const prevAt = new Map(prev.functions.map((f) => [f.node.startIndex, f.node]));
    const flat = this.cparser.flatten(tree, normalized, {
      prev: prev.flat,
      typeId: this.cparser.syntax.typeIdOf('function_definition'),
      at: (start, end) => {
        const was = end <= fnStart ? start : start >= fnEndNew ? start - delta : -1;
        const f = was >= 0 ? prevAt.get(was) : undefined;
        return f && f.endIndex - f.startIndex === end - start ? f.index : -1;
      },
    });
    const functions = listFunctions(flat.rootNode);
    // Outside the functions nothing may have changed, and the functions must still line up.
    const gaps = gapsOf(text, functions);
    if (functions.length !== prev.functions.length || gaps.length !== prev.gaps.length || gaps.some((g, k) => g !== prev.gaps[k])) {
      tree.delete();
      return undefined;
    }
    const changed: number[] = [];
    const fnTexts = functions.map((f) => text.slice(f.node.startIndex, f.node.endIndex));
    for (let k = 0; k < functions.length; k++) {
      if (fnTexts[k] !== prev.entries[k]!.text || functions[k]!.name !== prev.entries[k]!.name) changed.push(k);
    }
    const parsed = this.parsedOf(text, normalized, flat, functions);
    const only = changed.map((k) => functions[k]!);
    const prevSummaries: Map<string, FunctionSummary> = prev.summaries;
    // The unchanged same-file functions come in as knowledge (they are not in the analysed subset).
    // Callers in this file see the changed functions through their summaries: when one changes, its
    // callers (transitively) are analysed again too; when that is a big part of the file, all of it.
    const analysed = new Set(changed);
    let knowledge = new Map<string, FunctionSummary>();
    let summaries = new Map<string, FunctionSummary>();
    for (;;) {
      const subset = [...analysed].sort((x, y) => x - y).map((k) => functions[k]!);
      const names = new Set(subset.map((f) => f.name));
      knowledge = new Map(this.options.knowledge ?? []);
      for (const [n, sm] of prevSummaries) if (!names.has(n)) knowledge.set(n, sm);
      summaries = subset.length ? this.summariesOf(parsed, subset, knowledge) : new Map<string, FunctionSummary>();
      const moved = [...summaries].filter(([n, sm]) => {
        const before = prevSummaries.get(n);
        return !before || summaryKey(before) !== summaryKey(sm);
      }).map(([n]) => n);
      if (!moved.length) break;
      const callsMoved = new RegExp(`\\b(?:${moved.join('|')})\\s*\\(`);
      const callers = functions.map((_, k) => k).filter((k) => !analysed.has(k) && callsMoved.test(fnTexts[k]!));
      if (!callers.length) break;
      for (const k of callers) analysed.add(k);
      if (analysed.size > Math.max(8, functions.length / 4)) {
        tree.delete();
        return undefined;
      }
    }
    if (analysed.size > changed.length) {
      changed.splice(0, changed.length, ...[...analysed].sort((x, y) => x - y));
      only.splice(0, only.length, ...changed.map((k) => functions[k]!));
    }
    const partial = only.length
      ? analyzeFile(this.cparser, text, this.file, { ...this.options, catalog: this.catalog, knowledge, reuse: { parsed, only } })
      : undefined;
    const newHints = only.length ? computeHints(parsed, this.file, this.catalog, only) : { functions: [] };
    const hintByStart = new Map(newHints.functions.map((h) => [h.span.start.offset, h]));
    const entries: FnEntry[] = [];
    const findings: Finding[] = [];
    const hintList: FunctionHints[] = [];
    const changedSet = new Set(changed);
    for (let k = 0; k < functions.length; k++) {
      const f = functions[k]!;
      const start = f.node.startIndex;
      const line = f.node.startPosition.row + 1;
      let e: FnEntry;
      if (changedSet.has(k)) {
        e = { name: f.name, text: fnTexts[k]!, start, line, findings: [], incomplete: [], hints: hintByStart.get(start) };
        for (const fd of partial?.findings ?? []) if (ownerOf(functions, fd.span.start.offset) === k) e.findings.push(fd);
        for (const inc of partial?.incomplete ?? []) if (inc.line === line && inc.function === f.name) e.incomplete.push(inc);
      } else {
        const pe = prev.entries[k]!;
        const dLine = line - pe.line;
        const dOff = start - pe.start;
        e = {
          name: pe.name, text: pe.text, start, line,
          findings: pe.findings.map((fd) => shiftFinding(fd, this.file, dLine, dOff)),
          incomplete: pe.incomplete.map((inc) => ({ ...inc, line: inc.line + dLine })),
          hints: pe.hints ? shiftFunctionHints(pe.hints, dLine, dOff) : undefined,
        };
      }
      entries.push(e);
      findings.push(...e.findings);
      if (e.hints) hintList.push(e.hints);
    }
    // File-level findings (none today) are outside functions: the gaps are unchanged, so only their offsets move.
    const other = prev.other.map((fd) => (fd.span.start.offset >= oldEnd ? shiftFinding(fd, this.file, 0, delta) : fd));
    findings.push(...other);
    findings.sort((a, b) => a.span.start.offset - b.span.start.offset || a.rule.localeCompare(b.rule));
    const damaged = functions.filter((f) => f.damaged);
    const incomplete = entries.flatMap((e) => e.incomplete);
    const result: FileResult = {
      file: this.file,
      findings,
      stats: {
        functions: functions.length,
        functionsWithParseDamage: damaged.length,
        bytes: utf8ByteLength(text),
        functionsNotAnalysed: countIncomplete(incomplete),
      },
      ...(incomplete.length ? { incomplete } : {}),
      damagedFunctions: damaged.map((f) => f.name),
    };
    const hints: FileHints = { functions: hintList };
    prev.tree.delete();
    const merged = new Map(prevSummaries);
    for (const [n, sm] of summaries) merged.set(n, sm);
    this.state = { text, normalized, tree, flat, functions, entries, gaps, summaries: merged, other, result, hints };
    return { result, hints, mode: 'incremental', functionsAnalysed: only.length };
  }
}
