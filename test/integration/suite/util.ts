/** Helpers for the integration suite (runs inside a real VS Code extension host). */
import * as vscode from 'vscode';

export const WAIT_MS = 20000;

/** Polls `probe` until it returns something truthy; fails after `timeoutMs` saying what it waited for. */
export async function waitFor<T>(what: string, probe: () => T | undefined | null | false | Promise<T | undefined | null | false>, timeoutMs = WAIT_MS): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export function refscopeDiagnostics(uri: vscode.Uri): vscode.Diagnostic[] {
  return vscode.languages.getDiagnostics(uri).filter((d) => d.source === 'refscope');
}

/** 0-based line of the first line containing `needle`. */
export function lineOf(doc: vscode.TextDocument, needle: string): number {
  for (let i = 0; i < doc.lineCount; i++) if (doc.lineAt(i).text.includes(needle)) return i;
  throw new Error(`fixture has no line containing ${JSON.stringify(needle)}`);
}

export async function replaceLine(doc: vscode.TextDocument, line: number, text: string): Promise<void> {
  const edit = new vscode.WorkspaceEdit();
  edit.replace(doc.uri, doc.lineAt(line).range, text);
  if (!(await vscode.workspace.applyEdit(edit))) throw new Error(`edit of line ${line + 1} was not applied`);
}

/**
 * Asks the runner (which drives the browser) for a screenshot of the workbench,
 * saved as out/screenshots/<route>-<name>.png, and gives it time to take it.
 */
export async function screenshot(name: string): Promise<void> {
  console.log(`refscope-test: screenshot ${name}`);
  await new Promise((r) => setTimeout(r, 1500));
}
