/** Messages between the `check` main thread and its worker threads (structured-clone data). */
import type { Catalog } from '../core/catalog/index';
import type { Finding } from '../core/types';
import type { InputFile } from './files';

export interface WorkerInput {
  kind: 'refscope-check-worker';
  files: InputFile[];
  /** Int32Array[1] over a SharedArrayBuffer: index of the next file to claim. */
  next: SharedArrayBuffer;
  catalog: Catalog;
  root: string;
  cwd: string;
}

export type FileOutcome =
  | { kind: 'ok'; findings: Finding[]; functions: number; functionsWithParseDamage: number; functionsNotAnalysed: number; bytes: number; ms: number; damagedFunctions: string[] }
  | { kind: 'skipped'; reason: string }
  | { kind: 'io-error'; message: string };

export type WorkerMessage =
  | { kind: 'result'; index: number; outcome: FileOutcome }
  | { kind: 'done'; headersSummarized: number }
  | { kind: 'fatal'; message: string };
