/** Desktop (Node extension host) entry: `main` in package.json. */
import type * as vscode from 'vscode';
import { activateRefscope, type RefscopeApi } from './main';

export function activate(context: vscode.ExtensionContext): Promise<RefscopeApi> {
  return activateRefscope(context, 'desktop');
}

export function deactivate(): void {
  // Everything is disposed through context.subscriptions.
}
