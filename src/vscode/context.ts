/**
 * The one context object of an activation: the extension context, the log, the
 * analysis backend (which owns the injected parser) and the shared document analyzer. Features get it in their
 * `activate(ctx)` and register what they create with `ctx.register`.
 */
import * as vscode from 'vscode';
import { DocumentAnalyzer } from './analyzer';
import type { AnalysisBackend } from './backend';
import { CatalogService } from './catalogService';
import { DIAGNOSTIC_SOURCE } from './convert';
import { Disposable } from './dispose';
import { createIndexService, type RefscopeIndexService } from './indexService';

export type HostKind = 'desktop' | 'web';

export class RefscopeContext extends Disposable {
  readonly analyzer: DocumentAnalyzer;
  /** Built-in primitives plus the user's and (when trusted) the workspace's. */
  readonly catalog: CatalogService;
  /** The workspace index (built lazily, kept current on save and file changes). */
  readonly index: RefscopeIndexService;
  /** Text of the status bar item as last shown (read by the integration tests through the API). */
  status = '';
  /** The one collection of Refscope findings (open files and Analyze Workspace results). */
  readonly diagnostics: vscode.DiagnosticCollection;

  constructor(
    readonly extension: vscode.ExtensionContext,
    readonly log: vscode.LogOutputChannel,
    readonly backend: AnalysisBackend,
    readonly host: HostKind,
  ) {
    super();
    this._register(backend);
    this.catalog = this._register(new CatalogService(log));
    this.analyzer = this._register(new DocumentAnalyzer(backend, log));
    // The workspace's primitives: every open document is analysed again with them.
    this._register(this.catalog.onDidChange((st) => {
      backend.setCatalog(st.catalog);
      this.analyzer.rescheduleAll();
    }));
    this.catalog.reload();
    this.index = this._register(createIndexService(extension, backend, log));
    this.diagnostics = this._register(vscode.languages.createDiagnosticCollection(DIAGNOSTIC_SOURCE));
  }

  register<T extends vscode.Disposable>(d: T): T {
    return this._register(d);
  }
}
