/**
 * Feature: inlay hints after refcount operations (`+1 obj`, `−1 obj · may
 * free`, `+1 obj if ≠0`, `ref → table`) and after calls to wrappers the
 * workspace index learned (`i915_gem_object_put(obj)` → `−1 obj · may free`).
 * Only the requested (visible) range is answered; refreshed after each
 * analysis and index update.
 */
import * as vscode from 'vscode';
import { wrapperHint, type FunctionHints } from '../core/hints';
import { summaryOf, type WorkspaceIndex } from '../core/index/index';
import { isKernelC } from './analyzer';
import type { RefscopeContext } from './context';
import { fileKey } from './convert';
import { affectsRefscope, readSettings } from './settings';

export const C_SELECTOR: vscode.DocumentSelector = [{ language: 'c' }, { language: 'cpp', pattern: '**/*.h' }];

/** The learned summary of a call's callee as seen from `file`, if it is a wrapper with an effect. */
export function wrapperFor(index: WorkspaceIndex | undefined, callee: string, file: string): ReturnType<typeof summaryOf> {
  if (!index || index.rc.refOps.has(callee) || index.cat.lockOps.has(callee)) return undefined;
  return summaryOf(index, callee, file);
}

export function activate(ctx: RefscopeContext): void {
  const changed = ctx.register(new vscode.EventEmitter<void>());
  ctx.register(ctx.analyzer.onDidAnalyze(() => changed.fire()));
  ctx.register(ctx.index.onDidChange(() => changed.fire()));
  ctx.register(vscode.workspace.onDidChangeConfiguration((e) => {
    if (affectsRefscope(e)) changed.fire();
  }));
  ctx.register(vscode.languages.registerInlayHintsProvider(C_SELECTOR, {
    onDidChangeInlayHints: changed.event,
    provideInlayHints(doc, range): vscode.InlayHint[] {
      if (!isKernelC(doc)) return [];
      const s = readSettings(doc.uri).hints;
      if (!s.enable || (!s.refcount && !s.wrappers)) return [];
      // While typing, the last result stays in place until the new one arrives (same line count only).
      const ev = ctx.analyzer.latestFor(doc);
      if (!ev || (ev.version !== doc.version && ev.document.lineCount !== doc.lineCount)) return [];
      const out: vscode.InlayHint[] = [];
      const first = range.start.line + 1;
      const last = range.end.line + 1;
      for (const fn of ev.hints.functions) {
        if (fn.span.end.line < first || fn.span.start.line > last) continue;
        if (s.refcount) out.push(...refcountHints(fn, doc, first, last));
        if (s.wrappers) out.push(...wrapperHints(fn, doc, ctx.index.current, first, last));
      }
      return out;
    },
  }));
}

function hintAt(doc: vscode.TextDocument, line: number, column: number, label: string, tooltip: string): vscode.InlayHint {
  const pos = doc.validatePosition(new vscode.Position(line - 1, column - 1));
  const h = new vscode.InlayHint(pos, label);
  h.paddingLeft = true;
  h.tooltip = new vscode.MarkdownString(tooltip);
  return h;
}

function refcountHints(fn: FunctionHints, doc: vscode.TextDocument, first: number, last: number): vscode.InlayHint[] {
  const out: vscode.InlayHint[] = [];
  for (const r of fn.refOps) {
    if (r.at.end.line < first || r.at.end.line > last) continue;
    const call = fn.calls.find((c) => c.at.start.offset === r.at.start.offset);
    out.push(hintAt(doc, r.at.end.line, r.at.end.column, r.label,
      `**Refscope** · \`${r.callee}\` ${call?.effect ?? ''}${r.objectType ? ` (\`${r.object}\` is a \`${r.objectType}\`)` : ''}`));
  }
  return out;
}

function wrapperHints(fn: FunctionHints, doc: vscode.TextDocument, index: WorkspaceIndex | undefined, first: number, last: number): vscode.InlayHint[] {
  if (!index) return [];
  const out: vscode.InlayHint[] = [];
  for (const c of fn.calls) {
    if (c.category !== 'call' || c.at.end.line < first || c.at.end.line > last) continue;
    const sum = wrapperFor(index, c.callee, fileKey(doc.uri));
    const w = sum ? wrapperHint(sum, c.args) : undefined;
    if (!w) continue;
    out.push(hintAt(doc, c.at.end.line, c.at.end.column, w.label, `**Refscope** · learned wrapper: ${w.description}`));
  }
  return out;
}
