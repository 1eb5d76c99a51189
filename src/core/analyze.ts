import { timed } from './util/timing';
/**
 * Entry point of the analysis for one file: hosts (CLI workers, the editor) call
 * this with text they read themselves. Parses (kernel-aware), summarises the
 * file's own functions bottom-up, runs the lock dataflow per function and the
 * rules. Never throws on bad input: a function the analysis fails on is counted
 * in `stats.functionsNotAnalysed` and yields no findings.
 */
import { analyzeFunctions, type UnresolvedCallees } from './analysis/locks';
import { builtinCatalog, indexCatalog, type Catalog } from './catalog/index';
import type { FunctionSummary } from './index/summaries';
import type { CParser } from './parse/parser';
import { hasCCode } from './parse/prescan';
import { parseKernelC, type ParsedFile } from './parse/source';
import type { WorkspaceIndex } from './index/workspace';
import { indexRefcountCatalog } from './catalog/refcount';
import { runRules } from './rules/index';
import { runRefcountRules } from './rules/refcount/index';
import { refcountFocus } from './rules/refcount/focus';
import { GET_UNLESS_ZERO_OUTSIDE_LOOKUP } from './rules/refcount/get-unless-zero-outside-lookup';
import { UNCHECKED_GET_UNLESS_ZERO } from './rules/refcount/unchecked-get-unless-zero';
import { lockOrderEdgesOf } from './rules/lock-order';
import type { FileResult, Finding, IncompleteFunction, LockOrderEdge } from './types';
import { utf8ByteLength } from './util/text';

export interface AnalyzeOptions {
  /** Resolved catalog (built-ins merged with the user's .refscope.json). Default: builtinCatalog(). */
  catalog?: Catalog;
  /** Summaries of functions defined elsewhere in the workspace (headers, other files), by name. */
  knowledge?: ReadonlyMap<string, FunctionSummary>;
  /** Also return the file's lock-order edges (`FileResult.lockOrder`, for findLockOrderInversions). */
  lockOrder?: boolean;
  /**
   * Refcount rules: 'per-file' (default) runs the rules that need no workspace
   * index; 'none' leaves them all to a later `analyzeRefcount` with the index
   * (the CLI's second pass).
   */
  refcountRules?: 'per-file' | 'none';
  /** UTF-8 size of `text` when the host knows it (it read the bytes): spares counting. */
  bytes?: number;
  /** Called with the parsed file before it is freed: hosts extract index facts from the same parse. */
  onParsed?: (parsed: ParsedFile) => void;
  /**
   * Analyse this already-parsed file (parsed from `text`) instead of parsing
   * again; the caller keeps it (it is not disposed). With `only`, just those
   * functions are analysed (the editor's incremental re-analysis, src/core/incremental.ts).
   */
  reuse?: { parsed: ParsedFile; only?: ParsedFile['functions'] };
}

let defaultCatalog: Catalog | undefined;

/** The lock analysis of a function stopped (`failed` as FunctionAnalysis gives it). */
function lockIncomplete(name: string, line: number, failed: string): IncompleteFunction {
  if (failed === 'too many paths') return { function: name, line, analysis: 'locks', reason: 'paths' };
  if (failed === 'time budget') return { function: name, line, analysis: 'locks', reason: 'time' };
  return { function: name, line, analysis: 'locks', reason: 'error', detail: failed };
}

/** Functions with some incomplete analysis (a function both analyses stopped on counts once). */
export function countIncomplete(incomplete: readonly IncompleteFunction[]): number {
  return new Set(incomplete.map((i) => `${i.line}\0${i.function}`)).size;
}

/** What a file offers to and needs from other files (for hosts that analyse many files in two passes). */
export interface CrossFileInfo {
  /** Summaries of the file's non-static function definitions that have an effect (locks, may sleep). */
  exported: FunctionSummary[];
  /** Names of all the file's non-static function definitions (a name defined in two files is ambiguous). */
  defined: string[];
  /** Called names without a summary at analysis time: anywhere / with a lock held or released / in atomic context (sorted). */
  unresolved: { any: string[]; held: string[]; atomic: string[] };
}

export function analyzeFile(parser: CParser, text: string, file: string, options: AnalyzeOptions = {}): FileResult {
  return analyzeImpl(parser, text, file, options, null);
}

/** analyzeFile plus the file's cross-file information, from the same single parse and analysis. */
export function analyzeFileCrossFile(parser: CParser, text: string, file: string, options: AnalyzeOptions = {}): FileResult & { crossFile: CrossFileInfo } {
  const crossFile: CrossFileInfo = { exported: [], defined: [], unresolved: { any: [], held: [], atomic: [] } };
  return { ...analyzeImpl(parser, text, file, options, crossFile), crossFile };
}

function analyzeImpl(parser: CParser, text: string, file: string, options: AnalyzeOptions, crossFile: CrossFileInfo | null): FileResult {
  // Only directives and comments (generated register headers): nothing to parse for.
  if (!hasCCode(text)) {
    return { file, findings: [], stats: { functions: 0, functionsWithParseDamage: 0, bytes: options.bytes ?? utf8ByteLength(text), functionsNotAnalysed: 0, directivesOnly: true }, damagedFunctions: [] };
  }
  const own = options.reuse?.parsed ?? parseKernelC(parser, text);
  const parsed = options.reuse?.only ? { ...own, functions: options.reuse.only } : own;
  try {
    const damaged = parsed.functions.filter((f) => f.damaged);
    const findings: Finding[] = [];
    const incomplete: IncompleteFunction[] = [];
    let lockOrder: LockOrderEdge[] | undefined;
    try {
      const catalog = options.catalog ?? (defaultCatalog ??= builtinCatalog());
      const unresolved: UnresolvedCallees | undefined = crossFile ? { any: new Set(), held: new Set(), atomic: new Set() } : undefined;
      const fa = timed('analyzeFunctions', () => analyzeFunctions(parsed, file, catalog, options.knowledge, true, unresolved, options.lockOrder === true));
      if (options.lockOrder) lockOrder = lockOrderEdgesOf(fa, file);
      for (const f of fa.functions) if (f.failed) incomplete.push(lockIncomplete(f.name, f.line, f.failed));
      if (crossFile && unresolved) {
        const isStatic = new Map<string, boolean>();
        for (const f of parsed.functions) {
          if (isStatic.has(f.name)) continue;
          const body = f.node.childForFieldName('body');
          isStatic.set(f.name, /\bstatic\b/.test(text.slice(f.node.startIndex, body ? body.startIndex : f.node.endIndex)));
        }
        crossFile.exported = fa.summaries.filter((s) => s.definition && isStatic.get(s.name) === false
          && (s.maySleep || s.acquires.length > 0 || s.releases.length > 0 || s.condAcquires.length > 0 || (s.takes?.length ?? 0) > 0));
        crossFile.defined = [...isStatic].filter(([, st]) => !st).map(([n]) => n).sort();
        crossFile.unresolved = { any: [...unresolved.any].sort(), held: [...unresolved.held].sort(), atomic: [...unresolved.atomic].sort() };
      }
      for (const f of fa.functions) {
        try {
          findings.push(...runRules(f, file));
        } catch (e) {
          incomplete.push(lockIncomplete(f.name, f.line, `internal error: ${(e as Error).message}`));
        }
      }
      if (options.refcountRules !== 'none') findings.push(...perFileRefcountFindings(parsed, file, catalog, incomplete));
    } catch (e) {
      incomplete.length = 0;
      findings.length = 0;
      for (const f of parsed.functions) incomplete.push(lockIncomplete(f.name, f.node.startPosition.row + 1, `internal error: ${(e as Error).message}`));
    }
    options.onParsed?.(parsed);
    findings.sort((a, b) => a.span.start.offset - b.span.start.offset || a.rule.localeCompare(b.rule));
    return {
      file,
      findings,
      stats: {
        functions: parsed.functions.length,
        functionsWithParseDamage: damaged.length,
        bytes: options.bytes ?? utf8ByteLength(text),
        functionsNotAnalysed: countIncomplete(incomplete),
      },
      ...(incomplete.length ? { incomplete: incomplete.sort((a, b) => a.line - b.line || a.analysis.localeCompare(b.analysis)) } : {}),
      damagedFunctions: damaged.map((f) => f.name),
      ...(lockOrder ? { lockOrder } : {}),
    };
  } finally {
    if (!options.reuse) own.dispose();
  }
}

/**
 * The refcount rules that need no workspace index run per file, on files that
 * mention a get-unless-zero primitive at all (a text test: most files do not,
 * and those rules build a CFG per function). The index-based refcount rules
 * (`put-under-release-lock`, `free-without-grace-period`) need the workspace
 * index, which `refscope check` does not build yet.
 */
const PER_FILE_REFCOUNT_RULES: ReadonlySet<string> = new Set([UNCHECKED_GET_UNLESS_ZERO, GET_UNLESS_ZERO_OUTSIDE_LOOKUP]);
let condGetPattern: RegExp | undefined;

function perFileRefcountFindings(parsed: ReturnType<typeof parseKernelC>, file: string, catalog: Catalog, incomplete: IncompleteFunction[]): Finding[] {
  condGetPattern ??= new RegExp(`\\b(?:${[...indexRefcountCatalog().refOps.values()]
    .filter((o) => o.effect === 'get-unless-zero').map((o) => o.name).join('|')})\\s*\\(`);
  if (!condGetPattern.test(parsed.text)) return [];
  return runRefcountRules(parsed, file, { catalog }, PER_FILE_REFCOUNT_RULES, incomplete);
}

/**
 * Every refcount/RCU rule on one file with the workspace index (the CLI's
 * second pass; the caller decides which files can have such findings). Only the
 * definitions some rule can report on are parsed (rules/refcount/focus.ts):
 * the findings are those of the whole file.
 */
export function analyzeRefcount(
  parser: CParser, text: string, file: string,
  options: { catalog?: Catalog; index: WorkspaceIndex; /** Receives the functions some rule's walk stopped early on. */ incomplete?: IncompleteFunction[] },
): Finding[] {
  if (!hasCCode(text)) return [];
  const catalog = options.catalog ?? (defaultCatalog ??= builtinCatalog());
  const focus = timed('focus', () => refcountFocus(text, { file, index: options.index, rc: options.index.rc, cat: indexCatalog(catalog) }));
  if (!focus) return [];
  const parsed = parseKernelC(parser, focus.text);
  try {
    const findings = timed('runRefcountRules', () => runRefcountRules(parsed, file, { catalog, index: options.index }, undefined, options.incomplete));
    findings.sort((a, b) => a.span.start.offset - b.span.start.offset || a.rule.localeCompare(b.rule));
    return findings;
  } finally {
    parsed.dispose();
  }
}
