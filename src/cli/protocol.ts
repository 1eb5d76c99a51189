/** Messages between the `check` main thread and its worker threads (structured-clone data). */
import type { CrossFileInfo } from '../core/analyze';
import type { Catalog } from '../core/catalog/index';
import type { FunctionSummary } from '../core/index/summaries';
import type { Finding } from '../core/types';
import type { InputFile } from './files';

export interface WorkerInput {
  kind: 'refscope-check-worker';
  files: InputFile[];
  /** Int32Array[1] over a SharedArrayBuffer: index of the next file to claim. */
  next: SharedArrayBuffer;
  /** The same for pass 2 (indices into the list sent with the `pass2` message). */
  next2: SharedArrayBuffer;
  catalog: Catalog;
  root: string;
  cwd: string;
}

export type FileOutcome =
  | { kind: 'ok'; findings: Finding[]; functions: number; functionsWithParseDamage: number; functionsNotAnalysed: number; bytes: number; ms: number; damagedFunctions: string[]; crossFile?: CrossFileInfo }
  | { kind: 'skipped'; reason: string }
  | { kind: 'io-error'; message: string };

/** Worker -> main. `pass1-done` after the queue of pass 1 is empty; `done` before exiting. */
export type WorkerMessage =
  | { kind: 'result'; index: number; outcome: FileOutcome }
  | { kind: 'pass1-done' }
  | { kind: 'done'; headersSummarized: number }
  | { kind: 'fatal'; message: string };

/**
 * Main -> worker after pass 1: re-analyse the queue files at `indices` with the
 * merged cross-file summaries as extra knowledge (an empty list just ends the worker).
 */
export interface Pass2Message {
  kind: 'pass2';
  indices: number[];
  knowledge: FunctionSummary[];
}
