/** Messages between the desktop extension host and its analysis worker (workerMain.ts). */
import type { Catalog } from '../core/catalog/index';
import type { FileFacts } from '../core/index/index';
import type { EditorResult } from './backend';

export type ToWorker =
  | { kind: 'analyze'; id: number; file: string; text: string }
  /** Workspace-index facts of one file (never coalesced). */
  | { kind: 'facts'; id: number; file: string; text: string }
  /** The document was closed: drop its incremental state. */
  | { kind: 'close'; file: string }
  /** Analyse with this catalog from now on (plain data). */
  | { kind: 'catalog'; catalog: Catalog };

export type FromWorker =
  | { kind: 'ready' }
  | { kind: 'result'; id: number; result: EditorResult }
  | { kind: 'facts'; id: number; facts: FileFacts }
  /** A newer request for the same file arrived before this one started. */
  | { kind: 'superseded'; id: number }
  | { kind: 'error'; id: number; message: string }
  | { kind: 'fatal'; message: string };
