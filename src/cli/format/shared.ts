/** Data the formatters share: the report of one `refscope check` run. */
import type { Severity } from '../../core/types';

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

export interface SkippedFile {
  file: string;
  reason: string;
}

export interface ReportStats {
  files: number;
  functions: number;
  functionsWithParseDamage: number;
  bytes: number;
  ms: number;
  /** CPU time of the whole process (worker threads included). */
  cpuMs: number;
  /** Functions the lock analysis gave up on (no findings from them). */
  functionsNotAnalysed: number;
  skipped: number;
  skippedFiles: SkippedFile[];
  /** `function (file)` for every function still damaged after normalisation. */
  damagedFunctions: string[];
  headersSummarized: number;
  /** Cross-file knowledge: merged summaries, names dropped as defined in several files, files analysed again and their analysis time (worker ms). */
  crossFile?: { summaries: number; ambiguous: number; reanalysed: number; pass2Ms: number };
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

export function compareFindings(a: ReportFinding, b: ReportFinding): number {
  return cmp(a.file, b.file) || a.line - b.line || a.column - b.column || cmp(a.rule, b.rule) ||
    a.endLine - b.endLine || a.endColumn - b.endColumn || cmp(a.function, b.function) || cmp(a.message, b.message);
}

export function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
