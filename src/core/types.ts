/**
 * Plain-data types shared by every part of the core. No `vscode`, no Node APIs:
 * hosts convert these to their own types (see src/vscode/convert.ts).
 *
 * Positions: `line` is 1-based, `column` is 1-based and counts UTF-16 code
 * units (the unit web-tree-sitter indexes strings in); `offset` is a 0-based
 * UTF-16 index into the file's text.
 */

export interface Position {
  line: number;
  column: number;
  offset: number;
}

export interface Span {
  start: Position;
  end: Position;
}

export type Severity = 'error' | 'warning' | 'info';

/** One step of a finding's path trace: "lock taken here", "branch taken", "returned here". */
export interface TraceStep {
  file: string;
  line: number;
  column: number;
  message: string;
}

export interface Finding {
  /** Exact rule id, e.g. `lock-leak`. */
  rule: string;
  severity: Severity;
  file: string;
  span: Span;
  /** Name of the function the finding is in. */
  function: string;
  message: string;
  /** Id of the race scenario that explains the finding, or null. */
  scenario: string | null;
  trace: TraceStep[];
}

/**
 * A lock-order pair (plain JSON, crosses worker threads): in `function` of
 * `file`, lock class `from` was held (acquired at `fromLine`) when class `to` was
 * acquired at `toLine` (`span`), directly or inside a callee (the trace says
 * where). See core/analysis/lockorder.ts.
 */
export interface LockOrderEdge {
  from: string;
  to: string;
  file: string;
  function: string;
  fromLine: number;
  toLine: number;
  span: Span;
  trace: TraceStep[];
  /** `from` / `to` is the read side of an rwlock_t (readers nest: a reader never waits for a reader). */
  fromShared?: boolean;
  toShared?: boolean;
}

export interface FileStats {
  functions: number;
  functionsWithParseDamage: number;
  bytes: number;
  /** Functions some analysis gave up on (too many paths, time budget, internal error): `FileResult.incomplete` says which. */
  functionsNotAnalysed?: number;
  /** The file holds only preprocessor directives and comments (e.g. generated register headers): not parsed. */
  directivesOnly?: boolean;
}

/**
 * A function whose analysis stopped over its budget or failed (src/core/budget.ts):
 * it yields no findings from that analysis, and hosts say so (CLI stats, editor hints).
 */
export interface IncompleteFunction {
  function: string;
  /** Line of the function's definition (1-based). */
  line: number;
  /** `locks`: the lock dataflow (lock-leak, double-lock, unlock-unheld, sleep-in-atomic); `refcount`: a refcount rule's path walk. */
  analysis: 'locks' | 'refcount';
  /** `paths`: the step bound; `time`: the wall-time budget; `error`: an internal error. */
  reason: 'paths' | 'time' | 'error';
  /** The refcount rule (or rules) that stopped, or the error message. */
  detail?: string;
}

export interface FileResult {
  file: string;
  findings: Finding[];
  stats: FileStats;
  /** Functions whose analysis is incomplete (sorted by line); absent when none. */
  incomplete?: IncompleteFunction[];
  /** Names of functions still containing ERROR/MISSING nodes after normalisation. */
  damagedFunctions: string[];
  /** Lock-order pairs of the file's functions, when asked for (`AnalyzeOptions.lockOrder`). */
  lockOrder?: LockOrderEdge[];
}

/** Minimal abstract reader handed to the core by each host (Node fs, vscode.workspace.fs, tests). */
export interface FileReader {
  readText(path: string): Promise<string | undefined>;
}
