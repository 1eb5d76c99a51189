/**
 * Feature: "Simulate lifecycle of struct X" above each function that gets, puts
 * or publishes a refcounted object (catalog primitives, and learned wrappers
 * once the workspace index is built). Runs `refscope.simulateLifecycle` with
 * `{ typeName, uri, line }` (line 0-based: the function's first line); the
 * webview engineer's panel.ts registers that command.
 */
import * as vscode from 'vscode';
import type { FunctionHints } from '../core/hints';
import type { WorkspaceIndex } from '../core/index/index';
import { isKernelC } from './analyzer';
import type { RefscopeContext } from './context';
import { fileKey } from './convert';
import { SIMULATE_LIFECYCLE } from './hover';
import { C_SELECTOR, wrapperFor } from './inlayHints';
import { affectsRefscope, readSettings } from './settings';

/** Struct types a function handles as refcounted objects: primitives' objects, learned wrappers' arguments. */
export function lifecycleTypes(fn: FunctionHints, index: WorkspaceIndex | undefined, file: string): string[] {
  const types = new Set(fn.objectTypes);
  if (index) {
    for (const c of fn.calls) {
      if (c.category !== 'call') continue;
      const s = wrapperFor(index, c.callee, file);
      if (!s) continue;
      for (const p of s.params) {
        const t = c.argTypes[p.index];
        if (t && /^(struct|union) /.test(t) && p.effect !== 'none') types.add(t);
      }
    }
  }
  return [...types].sort();
}

export function activate(ctx: RefscopeContext): void {
  const changed = ctx.register(new vscode.EventEmitter<void>());
  ctx.register(ctx.analyzer.onDidAnalyze(() => changed.fire()));
  ctx.register(ctx.index.onDidChange(() => changed.fire()));
  ctx.register(vscode.workspace.onDidChangeConfiguration((e) => {
    if (affectsRefscope(e)) changed.fire();
  }));
  ctx.register(vscode.languages.registerCodeLensProvider(C_SELECTOR, {
    onDidChangeCodeLenses: changed.event,
    provideCodeLenses(doc): vscode.CodeLens[] {
      if (!isKernelC(doc)) return [];
      const s = readSettings(doc.uri).hints;
      if (!s.enable || !s.codeLens) return [];
      const ev = ctx.analyzer.latestFor(doc);
      if (!ev || ev.document.lineCount !== doc.lineCount) return [];
      const out: vscode.CodeLens[] = [];
      for (const fn of ev.hints.functions) {
        const line = fn.span.start.line - 1;
        if (line >= doc.lineCount) continue;
        for (const typeName of lifecycleTypes(fn, ctx.index.current, fileKey(doc.uri))) {
          out.push(new vscode.CodeLens(new vscode.Range(line, 0, line, 0), {
            title: `Simulate lifecycle of ${typeName}`,
            tooltip: `Explore every interleaving of the threads that get, put, publish and release ${typeName}`,
            command: SIMULATE_LIFECYCLE,
            arguments: [{ typeName, uri: doc.uri.toString(), line }],
          }));
        }
      }
      return out;
    },
  }));
}
