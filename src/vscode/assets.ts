/**
 * Reads the two WASM files shipped in the extension's dist/ through
 * `vscode.workspace.fs` (works for `file:` in the desktop host and for the
 * extension's own location in the web host), falling back to `fetch` for an
 * http(s) extension location a file system provider does not serve.
 */
import * as vscode from 'vscode';
import type { ParserAssets } from '../core/parse/parser';

async function readAsset(extensionUri: vscode.Uri, name: string): Promise<Uint8Array> {
  const uri = vscode.Uri.joinPath(extensionUri, 'dist', name);
  try {
    return await vscode.workspace.fs.readFile(uri);
  } catch (e) {
    if ((uri.scheme === 'http' || uri.scheme === 'https') && typeof fetch === 'function') {
      const res = await fetch(uri.toString(true));
      if (!res.ok) throw new Error(`cannot fetch ${uri.toString(true)}: HTTP ${res.status}`);
      return new Uint8Array(await res.arrayBuffer());
    }
    throw new Error(`cannot read ${uri.toString(true)}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

export async function readParserAssets(extensionUri: vscode.Uri): Promise<ParserAssets> {
  const [runtimeWasm, languageWasm] = await Promise.all([
    readAsset(extensionUri, 'tree-sitter.wasm'),
    readAsset(extensionUri, 'tree-sitter-c.wasm'),
  ]);
  return { runtimeWasm, languageWasm };
}
