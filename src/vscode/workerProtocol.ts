/** Messages between the desktop extension host and its analysis worker (workerMain.ts). */
import type { FileResult } from '../core/types';

export type ToWorker = { kind: 'analyze'; id: number; file: string; text: string };

export type FromWorker =
  | { kind: 'ready' }
  | { kind: 'result'; id: number; result: FileResult }
  /** A newer request for the same file arrived before this one started. */
  | { kind: 'superseded'; id: number }
  | { kind: 'error'; id: number; message: string }
  | { kind: 'fatal'; message: string };
