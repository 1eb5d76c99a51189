/** Feature: Refscope findings in the Problems panel, one DiagnosticCollection. */
import * as vscode from 'vscode';
import type { RefscopeContext } from './context';
import { DIAGNOSTIC_SOURCE, toDiagnostic } from './convert';

export function activate(ctx: RefscopeContext): void {
  const collection = ctx.register(vscode.languages.createDiagnosticCollection(DIAGNOSTIC_SOURCE));
  ctx.register(ctx.analyzer.onDidAnalyze((ev) => {
    collection.set(ev.document.uri, ev.findings.map((f) => toDiagnostic(f, ev.document.uri)));
  }));
  ctx.register(ctx.analyzer.onDidClear((uri) => collection.delete(uri)));
}
