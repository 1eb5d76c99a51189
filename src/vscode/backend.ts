/**
 * Where the analysis runs. The web host analyses in its own worker thread (the
 * web extension host is already a worker); the desktop host hands files to a
 * Node worker thread (workerBackend.ts) so the extension host stays responsive.
 */
import type * as vscode from 'vscode';
import { analyzeFile } from '../core/analyze';
import type { CParser } from '../core/parse/parser';
import type { FileResult } from '../core/types';

export type BackendKind = 'worker' | 'in-process';

export interface AnalysisBackend extends vscode.Disposable {
  readonly kind: BackendKind;
  /** Resolves undefined when a newer request for the same file superseded this one. */
  analyze(text: string, file: string): Promise<FileResult | undefined>;
}

export class InProcessBackend implements AnalysisBackend {
  readonly kind = 'in-process';

  constructor(private readonly parser: CParser) {}

  analyze(text: string, file: string): Promise<FileResult | undefined> {
    try {
      return Promise.resolve(analyzeFile(this.parser, text, file));
    } catch (e) {
      return Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
  }

  dispose(): void {
    // the parser lives as long as the extension host
  }
}
