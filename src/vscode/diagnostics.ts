/**
 * Feature: Refscope findings in the Problems panel, one DiagnosticCollection
 * (`ctx.diagnostics`) for open files (on every analysis) and for the files
 * Analyze Workspace reads (commands.ts).
 */
import type { RefscopeContext } from './context';
import { toDiagnostic } from './convert';

export function activate(ctx: RefscopeContext): void {
  const collection = ctx.diagnostics;
  ctx.register(ctx.analyzer.onDidAnalyze((ev) => {
    collection.set(ev.document.uri, ev.findings.map((f) => toDiagnostic(f, ev.document.uri)));
  }));
  ctx.register(ctx.analyzer.onDidClear((uri) => collection.delete(uri)));
}
