/**
 * Messages between the `check` main thread and its worker threads (structured-clone data).
 *
 * The run has three phases, each a queue of tasks claimed through an atomic
 * counter, so no result depends on which worker did what:
 *  1. `pass1` (the PATH files, in workerData): lock analysis with header
 *     knowledge, lock-order edges, cross-file offers, index facts (from the same
 *     parse), and the headers each file includes;
 *  2. `headers`: index facts of the included headers outside the PATHs;
 *  3. `pass2`: with the merged workspace index and cross-file summaries, the
 *     refcount/RCU rules on the files that can have such findings, and the lock
 *     analysis again on the files a cross-file summary can change.
 */
import type { CrossFileInfo } from '../core/analyze';
import type { Catalog } from '../core/catalog/index';
import type { FileFacts } from '../core/index/facts';
import type { FunctionSummary } from '../core/index/summaries';
import type { WorkspaceIndex } from '../core/index/workspace';
import type { Finding, LockOrderEdge } from '../core/types';
import type { InputFile } from './files';

export interface WorkerInput {
  kind: 'refscope-check-worker';
  files: InputFile[];
  /** Int32Array[1] over a SharedArrayBuffer: index of the next file to claim (pass 1). */
  next: SharedArrayBuffer;
  catalog: Catalog;
  root: string;
  cwd: string;
  /** Facts cache directory, or null for none. */
  cacheDir: string | null;
  /** Build the index (pass 1 extracts facts; refcount rules wait for pass 2), else run the per-file refcount rules in pass 1. */
  refcount: boolean;
}

export type FileOutcome =
  | {
    kind: 'ok'; findings: Finding[]; functions: number; functionsWithParseDamage: number; functionsNotAnalysed: number;
    directivesOnly: boolean; bytes: number; ms: number; damagedFunctions: string[]; crossFile?: CrossFileInfo; lockOrder: LockOrderEdge[];
  }
  | { kind: 'skipped'; reason: string }
  | { kind: 'io-error'; message: string };

/** Pass-1 extras of one file: its index facts (null for directive-only files) and the headers it includes (absolute). */
export interface Pass1Extras {
  facts: FileFacts | null;
  factsCached: boolean;
  includes: string[];
}

/** A header outside the PATHs whose facts feed the index. */
export interface HeaderTask {
  abs: string;
  label: string;
}

/** Worker -> main. */
export type WorkerMessage =
  | { kind: 'result'; index: number; outcome: FileOutcome; extras?: Pass1Extras }
  | { kind: 'header-facts'; index: number; facts: FileFacts | null; cached: boolean; includes: string[] }
  | {
    kind: 'result2'; index: number;
    /** The lock analysis redone with cross-file summaries (replaces pass 1's lock findings and edges). */
    lock?: FileOutcome;
    /** Findings of the refcount/RCU rules with the workspace index. */
    refcount: Finding[];
    refcountMs: number;
    /** The refcount rules ran on the file (it calls something refcount-related). */
    ran: boolean;
  }
  | { kind: 'phase-done'; phase: 'pass1' | 'headers' }
  | { kind: 'done'; headersSummarized: number }
  | { kind: 'fatal'; message: string };

/** Main -> worker: index facts for these headers (a queue over `next`). */
export interface HeadersMessage {
  kind: 'headers';
  tasks: HeaderTask[];
  next: SharedArrayBuffer;
}

/** The workspace index without its catalog tables (rebuilt in the worker). */
export type ShippedIndex = Omit<WorkspaceIndex, 'cat' | 'rc'>;

/**
 * Main -> worker: the last phase. `tasks` are pass-1 queue indices with what to
 * do on each; `index` is null when no file needs the refcount rules.
 */
export interface Pass2Message {
  kind: 'pass2';
  tasks: { index: number; lock: boolean; refcount: boolean }[];
  knowledge: FunctionSummary[];
  index: ShippedIndex | null;
  next: SharedArrayBuffer;
}
