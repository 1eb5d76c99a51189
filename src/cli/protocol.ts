/**
 * Messages between the `check` main thread and its worker threads (structured-clone data).
 *
 * The run has three phases, each a queue of tasks claimed through an atomic
 * counter, so no result depends on which worker did what:
 *  1. `pass1` (the PATH files, in workerData): lock analysis with header
 *     knowledge, lock-order edges, cross-file offers, index facts (from the same
 *     parse), and the headers each file includes;
 *  2. `headers`: index facts of the included headers outside the PATHs;
 *  3. `pass2-lock`: with the merged cross-file summaries, the lock analysis
 *     again on the files a cross-file summary can change (posted at once, so
 *     the workers run it while the main thread builds the workspace index);
 *  4. `pass2-refcount`: with the workspace index (serialised once into shared
 *     memory), the refcount/RCU rules on the files that can have such findings.
 */
import type { CrossFileInfo } from '../core/analyze';
import type { Catalog } from '../core/catalog/index';
import type { FunctionSummary } from '../core/index/summaries';
import type { WorkspaceIndex } from '../core/index/workspace';
import type { PackedFunctions, PackedLists, PackedTable } from '../core/index/lazy';
import type { Finding, IncompleteFunction, LockOrderEdge } from '../core/types';
import type { InputFile } from './files';

export interface WorkerInput {
  kind: 'refscope-check-worker';
  files: InputFile[];
  /** Int32Array[1] over a SharedArrayBuffer: index of the next entry of `pass1` to claim. */
  next: SharedArrayBuffer;
  /** Indices into `files` that pass 1 analyses (the others come from an index artifact). */
  pass1: number[];
  /** Send the sha256 of each file read in pass 1 and the headers phase (an index artifact is written). */
  hashes: boolean;
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
    /** Functions whose analysis stopped over budget or failed (FileResult.incomplete). */
    incomplete: IncompleteFunction[];
    directivesOnly: boolean; bytes: number; ms: number; damagedFunctions: string[]; crossFile?: CrossFileInfo; lockOrder: LockOrderEdge[];
  }
  | { kind: 'skipped'; reason: string }
  | { kind: 'io-error'; message: string };

/**
 * Pass-1 extras of one file: its index facts (null for directive-only files) and
 * the headers it includes (absolute). Facts travel as their JSON text (the form
 * the cache reads and writes): a string crosses threads as one copy, and the
 * main thread, idle during pass 1, parses it.
 */
export interface Pass1Extras {
  facts: string | null;
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
  | { kind: 'result'; index: number; outcome: FileOutcome; extras?: Pass1Extras; hash?: string }
  | { kind: 'header-facts'; index: number; facts: string | null; cached: boolean; includes: string[]; hash?: string }
  /** The lock analysis redone with cross-file summaries (replaces pass 1's lock findings and edges). */
  | { kind: 'lock2'; index: number; lock: FileOutcome }
  | {
    kind: 'refcount'; index: number;
    /** Findings of the refcount/RCU rules with the workspace index. */
    refcount: Finding[];
    /** Functions some refcount rule's walk stopped early on. */
    incomplete: IncompleteFunction[];
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
  /** Claim the tasks last first (results keep their indexes): see PoolOptions.reverseHeaders. */
  reverse?: boolean;
}

/** The workspace index without its function facts (sent packed) and catalog tables (rebuilt in the worker). */
export type ShippedTables = Omit<WorkspaceIndex, 'cat' | 'rc' | 'functions' | 'callers' | 'structs' | 'globals' | 'prototypes'>;

/** The index as the workers get it: the tables in `v8.serialize` form and the function facts packed (both in shared memory), the callers as definition slots. */
export interface ShippedIndex {
  tables: SharedArrayBuffer;
  functions: PackedFunctions;
  /** The callers as definition slots (CallerIds.packedCallers), in shared memory. */
  callers: PackedLists;
  /** The tables a worker reads a few entries of, packed per entry (packTable). */
  structs: PackedTable;
  globals: PackedTable;
  prototypes: PackedTable;
}

/** Main -> worker: the lock analysis again on these pass-1 queue indices, with the merged summaries. */
export interface Pass2LockMessage {
  kind: 'pass2-lock';
  tasks: number[];
  knowledge: FunctionSummary[];
  /** Names of `knowledge` defined in an architecture's tree, and per architecture what its files know besides (CrossFilePlan). */
  archOf: [string, string][];
  archAdds: [string, FunctionSummary[]][];
  next: SharedArrayBuffer;
}

/**
 * Main -> worker: the last phase, the refcount rules on these pass-1 queue
 * indices with the workspace index (one copy in shared memory for all
 * workers), null when no file needs the rules.
 */
export interface Pass2RefcountMessage {
  kind: 'pass2-refcount';
  tasks: number[];
  index: ShippedIndex | null;
  next: SharedArrayBuffer;
}
