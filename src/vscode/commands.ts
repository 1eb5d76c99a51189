/** Feature: palette commands (category "Refscope"). */
import * as vscode from 'vscode';
import { isKernelC } from './analyzer';
import type { RefscopeContext } from './context';

export const COMMANDS = {
  analyzeFile: 'refscope.analyzeFile',
  showOutput: 'refscope.showOutput',
} as const;

export function activate(ctx: RefscopeContext): void {
  /**
   * Re-analyses the active editor's document (or `uri`) now and returns the
   * number of findings reported for it, or undefined when there is no C file to
   * analyse (or it is disabled or too large).
   */
  ctx.register(vscode.commands.registerCommand(COMMANDS.analyzeFile, async (uri?: vscode.Uri): Promise<number | undefined> => {
    const doc = uri instanceof vscode.Uri ? await vscode.workspace.openTextDocument(uri) : vscode.window.activeTextEditor?.document;
    if (!doc || !isKernelC(doc)) {
      void vscode.window.showInformationMessage('Refscope: open a C file to analyse it.');
      return undefined;
    }
    const ev = await ctx.analyzer.analyzeNow(doc);
    if (!ev) return undefined;
    ctx.log.info(`${vscode.workspace.asRelativePath(doc.uri)}: ${ev.findings.length} findings (${ev.durationMs.toFixed(1)} ms)`);
    return ev.findings.length;
  }));
}
