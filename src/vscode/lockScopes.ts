/**
 * Feature: lock scopes in the editor. Each lock a function holds gets a faint
 * background and a bar on the left of the lines where it is held, in one of six
 * theme colours (`refscope.lockScope1..6.*` in contributes.colors), named on
 * hover; each `return`/`goto` that leaves with locks held shows the held set
 * after it. Redrawn on every analysis (analyses are debounced); in big files
 * only the visible ranges (plus a margin) are decorated, again on scroll.
 */
import * as vscode from 'vscode';
import { heldText, type FileHints } from '../core/hints';
import type { AnalysisEvent } from './analyzer';
import type { RefscopeContext } from './context';
import { affectsRefscope, readSettings } from './settings';

export const LOCK_COLOURS = 6;
/** Files longer than this get decorations for their visible ranges only. */
export const BIG_FILE_LINES = 3000;
const VISIBLE_MARGIN = 150;

export function activate(ctx: RefscopeContext): void {
  const scopeTypes = Array.from({ length: LOCK_COLOURS }, (_, i) => ctx.register(vscode.window.createTextEditorDecorationType({
    isWholeLine: true,
    backgroundColor: new vscode.ThemeColor(`refscope.lockScope${i + 1}.background`),
    borderColor: new vscode.ThemeColor(`refscope.lockScope${i + 1}.border`),
    borderStyle: 'solid',
    borderWidth: '0 0 0 3px',
    overviewRulerColor: new vscode.ThemeColor(`refscope.lockScope${i + 1}.border`),
    overviewRulerLane: vscode.OverviewRulerLane.Left,
  })));
  const exitType = ctx.register(vscode.window.createTextEditorDecorationType({
    after: {
      color: new vscode.ThemeColor('refscope.heldAtExit.foreground'),
      backgroundColor: new vscode.ThemeColor('refscope.heldAtExit.background'),
      margin: '0 0 0 1.5em',
      fontStyle: 'italic',
    },
  }));
  const scrollTimers = new Map<vscode.TextEditor, ReturnType<typeof setTimeout>>();
  ctx.register({ dispose: () => scrollTimers.forEach((t) => clearTimeout(t)) });

  const render = (editor: vscode.TextEditor, ev: AnalysisEvent | undefined): void => {
    const s = readSettings(editor.document.uri).hints;
    const current = ev && ev.version === editor.document.version ? ev : undefined;
    const scopes = current && s.enable && s.lockScopes ? scopeDecorations(current.hints, editor) : undefined;
    for (let i = 0; i < LOCK_COLOURS; i++) editor.setDecorations(scopeTypes[i]!, scopes?.[i] ?? []);
    editor.setDecorations(exitType, current && s.enable && s.heldAtExit ? exitDecorations(current.hints, editor) : []);
  };
  const renderDoc = (doc: vscode.TextDocument): void => {
    const ev = ctx.analyzer.resultFor(doc);
    for (const e of vscode.window.visibleTextEditors) if (e.document === doc) render(e, ev);
  };
  ctx.register(ctx.analyzer.onDidAnalyze((ev) => renderDoc(ev.document)));
  ctx.register(ctx.analyzer.onDidClear((uri) => {
    for (const e of vscode.window.visibleTextEditors) if (e.document.uri.toString() === uri.toString()) render(e, undefined);
  }));
  ctx.register(vscode.window.onDidChangeVisibleTextEditors((eds) => {
    for (const e of eds) render(e, ctx.analyzer.resultFor(e.document));
  }));
  ctx.register(vscode.window.onDidChangeTextEditorVisibleRanges((e) => {
    if (e.textEditor.document.lineCount <= BIG_FILE_LINES) return;
    clearTimeout(scrollTimers.get(e.textEditor));
    scrollTimers.set(e.textEditor, setTimeout(() => {
      scrollTimers.delete(e.textEditor);
      render(e.textEditor, ctx.analyzer.resultFor(e.textEditor.document));
    }, 100));
  }));
  ctx.register(vscode.workspace.onDidChangeConfiguration((e) => {
    if (!affectsRefscope(e)) return;
    for (const ed of vscode.window.visibleTextEditors) render(ed, ctx.analyzer.resultFor(ed.document));
  }));
}

/** Lines to decorate: all of them, or the visible ranges with a margin in big files. */
function lineFilter(editor: vscode.TextEditor): (a: number, b: number) => boolean {
  if (editor.document.lineCount <= BIG_FILE_LINES) return () => true;
  const ranges = editor.visibleRanges.map((r) => [r.start.line - VISIBLE_MARGIN, r.end.line + VISIBLE_MARGIN] as const);
  return (a, b) => ranges.some(([x, y]) => a <= y && b >= x);
}

/** Colour slot per lock, stable within a file: in order of first appearance. */
export function colourSlots(hints: FileHints): Map<string, number> {
  const slots = new Map<string, number>();
  for (const fn of hints.functions) {
    for (const s of fn.lockScopes) if (!slots.has(s.label)) slots.set(s.label, slots.size % LOCK_COLOURS);
  }
  return slots;
}

function scopeDecorations(hints: FileHints, editor: vscode.TextEditor): vscode.DecorationOptions[][] {
  const out: vscode.DecorationOptions[][] = Array.from({ length: LOCK_COLOURS }, () => []);
  const slots = colourSlots(hints);
  const visible = lineFilter(editor);
  const last = editor.document.lineCount - 1;
  for (const fn of hints.functions) {
    for (const s of fn.lockScopes) {
      const slot = slots.get(s.label) ?? 0;
      const what = s.key === 'rcu' ? 'RCU read-side critical section' : `${s.kind} \`${s.label}\` held`;
      for (const r of s.ranges) {
        const a = Math.min(last, r.start - 1);
        const b = Math.min(last, r.end - 1);
        if (!visible(a, b)) continue;
        const hover = new vscode.MarkdownString(`**Refscope** · ${what} (lines ${r.start}–${r.end} of \`${fn.name}()\`)`);
        out[slot]!.push({ range: new vscode.Range(a, 0, b, 0), hoverMessage: hover });
      }
    }
  }
  return out;
}

function exitDecorations(hints: FileHints, editor: vscode.TextEditor): vscode.DecorationOptions[] {
  const out: vscode.DecorationOptions[] = [];
  const visible = lineFilter(editor);
  for (const fn of hints.functions) {
    for (const e of fn.exits) {
      const line = e.at.end.line - 1;
      if (line >= editor.document.lineCount || !visible(line, line)) continue;
      const end = editor.document.lineAt(line).range.end;
      out.push({
        range: new vscode.Range(end, end),
        renderOptions: { after: { contentText: `⟵ held: ${heldText(e.held)}` } },
        hoverMessage: new vscode.MarkdownString(`**Refscope** · \`${fn.name}()\` leaves here${e.target ? ` (to \`${e.target}\`)` : ''} with ${heldText(e.held)} held`),
      });
    }
  }
  return out;
}
