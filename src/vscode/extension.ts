/** Desktop (Node extension host) entry: `main` in package.json. Analysis runs in a worker thread. */
import type * as vscode from 'vscode';
import { activateRefscope, type RefscopeApi } from './main';
import { WorkerBackend } from './workerBackend';

export function activate(context: vscode.ExtensionContext): Promise<RefscopeApi> {
  return activateRefscope(context, 'desktop', (uri, log) => WorkerBackend.start(uri, log));
}

export function deactivate(): void {
  // Everything (the worker included) is disposed through context.subscriptions.
}
