/** Data the formatters share: the report of one `refscope check` run. */
import type { IncompleteFunction, Severity } from '../../core/types';

export interface ReportTraceStep {
  file: string;
  line: number;
  column: number;
  message: string;
}

export interface ReportFinding {
  rule: string;
  severity: Severity;
  /** PATH as given joined with the path below it. */
  file: string;
  /** Absolute path (for SARIF URIs); not printed in JSON. */
  absFile: string;
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
  function: string;
  message: string;
  scenario: string | null;
  trace: ReportTraceStep[];
}

/** A function whose analysis is incomplete (core IncompleteFunction), with its file. */
export interface IncompleteReport extends IncompleteFunction {
  file: string;
}

export interface SkippedFile {
  file: string;
  reason: string;
}

export interface IndexSummary {
  /** Files whose facts feed the index: the PATH files with C in them and the headers they include. */
  files: number;
  /** Of those, the headers outside the PATHs. */
  headers: number;
  /** Facts taken from the cache instead of being extracted. */
  cachedFacts: number;
  structs: number;
  functions: number;
  refcountedTypes: number;
  lookupStructures: number;
  releaseCallbacks: number;
  /** Learned wrappers (the primitives themselves excluded), with their names. */
  learnedWrappers: { get: number; put: number; returnsRef: number; getNames: string[]; putNames: string[]; returnsRefNames: string[] };
  /** Main-thread time to merge the facts into the index and learn the summaries. */
  buildMs: number;
  /** Files the refcount rules ran on (pass 2) and their worker time. */
  refcountFiles: number;
  refcountMs: number;
}

export interface ReportStats {
  files: number;
  functions: number;
  functionsWithParseDamage: number;
  bytes: number;
  ms: number;
  /** CPU time of the whole process (worker threads included). */
  cpuMs: number;
  /** Functions some analysis gave up on (no findings from that analysis): `incomplete` lists them. */
  functionsNotAnalysed: number;
  /** Each function whose analysis stopped over budget or failed, with its file, by file and line. */
  incomplete: IncompleteReport[];
  /** Files holding only preprocessor directives and comments (generated register headers): read, not parsed. */
  filesDirectivesOnly: number;
  skipped: number;
  skippedFiles: SkippedFile[];
  /** `function (file)` for every function still damaged after normalisation. */
  damagedFunctions: string[];
  headersSummarized: number;
  /** Cross-file knowledge: merged summaries, names dropped as defined in several files, files analysed again and their analysis time (worker ms). */
  crossFile?: { summaries: number; ambiguous: number; reanalysed: number; pass2Ms: number };
  /** The workspace index (absent with --no-index). */
  index?: IndexSummary;
  /**
   * Wall time of each phase (ms from the start of the worker pool): pass 1 over
   * the PATH files, the headers outside the PATHs, the index merge on the main
   * thread, pass 2 (refcount rules, cross-file re-analysis).
   */
  phasesMs?: { pass1: number; headers: number; index: number; pass2: number };
  /** What the index artifact did (--index FILE, refscope index). */
  indexFile?: import('../pool').ArtifactStats;
  /** --shard K/N: the stats and findings are this shard's. */
  shard?: { k: number; n: number };
  /** The files that took longest to analyse (worker time, ms), slowest first. */
  slowestFiles: { file: string; ms: number }[];
  jobs: number;
}

export interface Report {
  findings: ReportFinding[];
  stats: ReportStats;
  /** Absolute workspace root (--root), the SARIF %SRCROOT%. */
  root: string;
  cwd: string;
  toolVersion: string;
}

/** The fields findings are ordered by (a JSON-contract finding has them too). */
export type FindingOrderKey = Pick<ReportFinding, 'file' | 'line' | 'column' | 'rule' | 'endLine' | 'endColumn' | 'function' | 'message'>;

export function compareFindings(a: FindingOrderKey, b: FindingOrderKey): number {
  return cmp(a.file, b.file) || a.line - b.line || a.column - b.column || cmp(a.rule, b.rule) ||
    a.endLine - b.endLine || a.endColumn - b.endColumn || cmp(a.function, b.function) || cmp(a.message, b.message);
}

export function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
