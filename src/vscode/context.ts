/**
 * The one context object of an activation: the extension context, the log, the
 * analysis backend (which owns the injected parser) and the shared document analyzer. Features get it in their
 * `activate(ctx)` and register what they create with `ctx.register`.
 */
import type * as vscode from 'vscode';
import { DocumentAnalyzer } from './analyzer';
import type { AnalysisBackend } from './backend';
import { Disposable } from './dispose';

export type HostKind = 'desktop' | 'web';

export class RefscopeContext extends Disposable {
  readonly analyzer: DocumentAnalyzer;

  constructor(
    readonly extension: vscode.ExtensionContext,
    readonly log: vscode.LogOutputChannel,
    readonly backend: AnalysisBackend,
    readonly host: HostKind,
  ) {
    super();
    this._register(backend);
    this.analyzer = this._register(new DocumentAnalyzer(backend, log));
  }

  register<T extends vscode.Disposable>(d: T): T {
    return this._register(d);
  }
}
