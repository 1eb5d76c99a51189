/**
 * Feature: the status bar item. "Refscope: indexing 37%" while the workspace
 * index builds, otherwise "Refscope: N findings" (every Refscope diagnostic:
 * open files and Analyze Workspace results). A click opens the Problems panel.
 */
import * as vscode from 'vscode';
import type { RefscopeContext } from './context';

export function statusText(ctx: RefscopeContext): string {
  const p = ctx.index.progress;
  if (p !== undefined) return `Refscope: indexing ${Math.floor(p * 100)}%`;
  let n = 0;
  ctx.diagnostics.forEach((_uri, diags) => {
    n += diags.length;
  });
  return `Refscope: ${n} finding${n === 1 ? '' : 's'}`;
}

export function activate(ctx: RefscopeContext): void {
  const item = ctx.register(vscode.window.createStatusBarItem('refscope.status', vscode.StatusBarAlignment.Left, 10));
  item.name = 'Refscope';
  item.command = { command: 'workbench.actions.view.problems', title: 'Show Refscope findings in the Problems panel' };
  item.tooltip = 'Refscope findings: click to open the Problems panel';
  const update = (): void => {
    const text = statusText(ctx);
    item.text = text.replace(/^Refscope:/, ctx.index.progress !== undefined ? '$(sync~spin) Refscope:' : '$(shield) Refscope:');
    item.accessibilityInformation = { label: text };
    ctx.status = text;
  };
  ctx.register(ctx.index.onDidProgress(update));
  ctx.register(vscode.languages.onDidChangeDiagnostics(update));
  update();
  item.show();
}
