/** Web extension host entry (vscode.dev, github.dev): `browser` in package.json. The host is a worker already: analysis runs in it. */
import type * as vscode from 'vscode';
import { activateRefscope, type RefscopeApi } from './main';

export function activate(context: vscode.ExtensionContext): Promise<RefscopeApi> {
  return activateRefscope(context, 'web');
}

export function deactivate(): void {
  // Everything is disposed through context.subscriptions.
}
