/**
 * Where the analysis runs. The web host analyses in its own worker thread (the
 * web extension host is already a worker); the desktop host hands files to a
 * Node worker thread (workerBackend.ts) so the extension host stays responsive.
 * Either way each open file keeps an IncrementalAnalyzer (src/core/incremental.ts):
 * an edit inside a function re-parses incrementally and re-analyses that function only.
 */
import type * as vscode from 'vscode';
import type { Catalog } from '../core/catalog/index';
import type { FileHints } from '../core/hints';
import { IncrementalAnalyzer } from '../core/incremental';
import { extractFileFacts, type FileFacts } from '../core/index/index';
import type { CParser } from '../core/parse/parser';
import type { FileResult } from '../core/types';

export type BackendKind = 'worker' | 'in-process';

/** One file's findings and editor hints (plain data: crosses the worker boundary). */
export interface EditorResult {
  result: FileResult;
  hints: FileHints;
  /** `incremental`: only the edited function was analysed again. */
  mode: 'full' | 'incremental' | 'unchanged';
  functionsAnalysed: number;
}

export interface AnalysisBackend extends vscode.Disposable {
  readonly kind: BackendKind;
  /** Resolves undefined when a newer request for the same file superseded this one. */
  analyze(text: string, file: string): Promise<EditorResult | undefined>;
  /** Workspace-index facts of one file (one parse), for the index service. */
  facts(text: string, file: string): Promise<FileFacts>;
  /** The file was closed: drop its incremental state. */
  close(file: string): void;
  /** Analyse with this catalog from now on (built-ins plus the user's and workspace's primitives); drops every incremental state. */
  setCatalog(catalog: Catalog): void;
}

/**
 * Incremental analyzers of the open files, an LRU bounded by count and by
 * estimated memory (IncrementalAnalyzer.approxBytes): the least recently used
 * are dropped (their syntax trees freed) until both bounds hold; the one just
 * analysed always stays. A dropped file is analysed in full on its next edit.
 */
export class AnalyzerPool {
  private readonly analyzers = new Map<string, IncrementalAnalyzer>();
  private readonly warmTimers = new Map<string, ReturnType<typeof setTimeout>>();
  private catalog: Catalog | undefined;

  constructor(
    private readonly parser: CParser,
    private readonly max = 24,
    private readonly maxBytes = 256 * 1024 * 1024,
  ) {}

  /** Files with an incremental state, least recently used first (tests, logs). */
  files(): string[] {
    return [...this.analyzers.keys()];
  }

  /** Estimated memory of every incremental state, in bytes. */
  approxBytes(): number {
    let n = 0;
    for (const a of this.analyzers.values()) n += a.approxBytes();
    return n;
  }

  /** New analyzers use `catalog`; the current ones (built with the old catalog) are dropped. */
  setCatalog(catalog: Catalog): void {
    this.catalog = catalog;
    for (const f of [...this.analyzers.keys()]) this.close(f);
  }

  analyze(text: string, file: string): EditorResult {
    let a = this.analyzers.get(file);
    if (a) this.analyzers.delete(file);
    else a = new IncrementalAnalyzer(this.parser, file, this.catalog ? { catalog: this.catalog } : {});
    this.analyzers.set(file, a);
    let r: EditorResult;
    try {
      r = a.update(text);
    } catch (e) {
      this.close(file);
      throw e;
    }
    this.evict(file);
    if (r.mode === 'full') {
      // Prepare fast edits when idle (the summaries of the file's own functions).
      clearTimeout(this.warmTimers.get(file));
      const an = a;
      this.warmTimers.set(file, setTimeout(() => {
        this.warmTimers.delete(file);
        try {
          an.warm();
        } catch {
          // the next edit analyses the whole file
        }
      }, 50));
    }
    return r;
  }

  /** Drop least recently used states until the count and memory bounds hold (never `keep`). */
  private evict(keep: string): void {
    let bytes = this.approxBytes();
    for (const f of [...this.analyzers.keys()]) {
      if (this.analyzers.size <= this.max && bytes <= this.maxBytes) return;
      if (f === keep) continue;
      bytes -= this.analyzers.get(f)?.approxBytes() ?? 0;
      this.close(f);
    }
  }

  close(file: string): void {
    clearTimeout(this.warmTimers.get(file));
    this.warmTimers.delete(file);
    this.analyzers.get(file)?.dispose();
    this.analyzers.delete(file);
  }

  dispose(): void {
    for (const f of [...this.analyzers.keys()]) this.close(f);
  }
}

export class InProcessBackend implements AnalysisBackend {
  readonly kind = 'in-process';
  private readonly pool: AnalyzerPool;

  constructor(private readonly parser: CParser) {
    this.pool = new AnalyzerPool(parser);
  }

  analyze(text: string, file: string): Promise<EditorResult | undefined> {
    try {
      return Promise.resolve(this.pool.analyze(text, file));
    } catch (e) {
      return Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
  }

  facts(text: string, file: string): Promise<FileFacts> {
    try {
      return Promise.resolve(extractFileFacts(this.parser, text, file));
    } catch (e) {
      return Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
  }

  close(file: string): void {
    this.pool.close(file);
  }

  setCatalog(catalog: Catalog): void {
    this.pool.setCatalog(catalog);
  }

  dispose(): void {
    this.pool.dispose();
  }
}
