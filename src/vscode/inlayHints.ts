/**
 * Feature: inlay hints after refcount operations (`+1 obj`, `−1 obj · may
 * free`, `+1 obj if ≠0`, `ref → table`) and after calls to wrappers the
 * workspace index learned (`i915_gem_object_put(obj)` → `−1 obj · may free`).
 * Only the requested (visible) range is answered; refreshed after each
 * analysis and index update.
 */
import * as vscode from 'vscode';
import { describeIncomplete } from '../core/budget';
import { wrapperHint, type FunctionHints } from '../core/hints';
import type { IncompleteFunction } from '../core/types';
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
      if (!s.enable || (!s.refcount && !s.wrappers && !s.incomplete)) return [];
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
      if (s.incomplete) out.push(...incompleteHints(ev.result.incomplete ?? [], ev.hints.functions, doc, first, last));
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

/**
 * "analysis incomplete" at the end of the first line of each function whose analysis stopped
 * over its budget (FileResult.incomplete) or whose held-set walk did (the lock
 * scopes are partial): the reader must not take the function's silence for a
 * clean bill.
 */
export function incompleteHints(
  incomplete: readonly IncompleteFunction[], functions: readonly FunctionHints[], doc: vscode.TextDocument, first: number, last: number,
): vscode.InlayHint[] {
  const byLine = new Map<number, string[]>();
  for (const i of incomplete) {
    if (i.line < first || i.line > last) continue;
    const l = byLine.get(i.line) ?? [];
    l.push(describeIncomplete(i));
    byLine.set(i.line, l);
  }
  for (const fn of functions) {
    const line = fn.span.start.line;
    if (!fn.heldWalkStopped || line < first || line > last) continue;
    const l = byLine.get(line) ?? [];
    l.push(`lock scopes shown for part of the paths only (${fn.heldWalkStopped === 'time' ? 'out of time' : 'too many paths'})`);
    byLine.set(line, l);
  }
  const out: vscode.InlayHint[] = [];
  for (const [line, why] of byLine) {
    const fn = functions.find((f) => f.span.start.line === line);
    const h = hintAt(doc, line, doc.lineAt(Math.min(doc.lineCount, line) - 1).text.length + 1, '⚠ analysis incomplete',
      `**Refscope** · analysis incomplete${fn ? ` in \`${fn.name}\`` : ''}:\n\n${why.map((w) => `- ${w}`).join('\n')}\n\n`
      + 'No finding comes from an analysis that stopped: this function may still have the bugs it looks for. '
      + 'Splitting the function, or fewer paths through it, brings it under the budget.');
    out.push(h);
  }
  return out;
}
