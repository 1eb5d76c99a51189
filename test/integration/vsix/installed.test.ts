/// <reference types="mocha" />
/*
 * Runs in VS Code 1.100's Node extension host (code-server) against Refscope
 * as installed from the .vsix that `vsce package` built: the package must hold
 * the bundles and the WASM grammar, nothing from the source tree, and work.
 */
import assert from 'assert';
import * as vscode from 'vscode';
import { lineOf, refscopeDiagnostics, waitFor } from '../suite/util';

const ID = 'refscope.refscope';

async function listFiles(base: vscode.Uri, rel = ''): Promise<Array<{ path: string; size: number }>> {
  const out: Array<{ path: string; size: number }> = [];
  const dir = rel ? vscode.Uri.joinPath(base, rel) : base;
  for (const [name, type] of await vscode.workspace.fs.readDirectory(dir)) {
    const path = rel ? `${rel}/${name}` : name;
    if (type & vscode.FileType.Directory) out.push(...(await listFiles(base, path)));
    else out.push({ path, size: (await vscode.workspace.fs.stat(vscode.Uri.joinPath(base, path))).size });
  }
  return out;
}

suite('Refscope installed from its .vsix', function () {
  this.timeout(90000);
  let ext: vscode.Extension<unknown>;

  suiteSetup(() => {
    const found = vscode.extensions.getExtension(ID);
    assert.ok(found, `${ID} is installed`);
    ext = found;
  });

  test('the extension VS Code loaded is the installed copy, not the checkout', () => {
    const extDir = process.env.REFSCOPE_VSIX_EXT_DIR;
    assert.ok(extDir, 'the runner passes the extensions directory');
    const at = ext.extensionUri.fsPath;
    assert.ok(at.startsWith(extDir), `${ID} loaded from ${at}, expected under ${extDir}`);
    const pkg = ext.packageJSON as { version?: string; name?: string; publisher?: string };
    assert.ok(at.endsWith(`${pkg.publisher}.${pkg.name}-${pkg.version}`), `installed directory name: ${at}`);
  });

  test('the package holds the bundles and both WASM files, and nothing from the source tree', async () => {
    const files = await listFiles(ext.extensionUri);
    const paths = files.map((f) => f.path);
    const pkg = ext.packageJSON as { main: string; browser: string };
    const needed = [
      'package.json', 'LICENSE.txt', pkg.main.replace(/^\.\//, ''), pkg.browser.replace(/^\.\//, ''),
      'dist/analysis-worker.js', 'dist/webview.js', 'dist/webview.css', 'dist/codicon.ttf',
      'dist/tree-sitter.wasm', 'dist/tree-sitter-c.wasm', 'docs/rules/lock-leak.md',
    ];
    for (const n of needed) assert.ok(paths.includes(n), `${n} is in the package (have: ${paths.join(', ')})`);
    const junk = paths.filter((p) => /\.(map|ts|tsbuildinfo)$/.test(p) || /^(src|test|bench|scripts|node_modules|out|examples|\.scratch|\.ci)\//.test(p) || p === 'dist/cli.js');
    assert.deepStrictEqual(junk, [], 'no source, test, map or CLI files in the package');
    const wasm = files.filter((f) => f.path.endsWith('.wasm'));
    for (const w of wasm) assert.ok(w.size > 100 * 1024, `${w.path} is a real grammar/runtime (${w.size} bytes)`);
    const total = files.reduce((s, f) => s + f.size, 0);
    assert.ok(total < 8 * 1024 * 1024, `unpacked size ${(total / 1024).toFixed(0)} KB stays small`);
  });

  test('activates on a kernel C file, analyses it in the worker and reports its finding', async () => {
    const folder = vscode.workspace.workspaceFolders?.[0];
    assert.ok(folder, 'the fixture workspace is open');
    const doc = await vscode.workspace.openTextDocument(vscode.Uri.joinPath(folder.uri, 'foo_dev.c'));
    await vscode.window.showTextDocument(doc);
    await waitFor('the installed extension to activate', () => ext.isActive, 60000);
    const api = ext.exports as { host?: string; backend?: string } | undefined;
    assert.strictEqual(api?.host, 'desktop');
    assert.strictEqual(api?.backend, 'worker', 'the packaged analysis worker started');
    const diags = await waitFor('a Refscope diagnostic from the installed copy', () => {
      const d = refscopeDiagnostics(doc.uri);
      return d.length > 0 && d;
    }, 60000);
    const codes = diags.map((d) => (typeof d.code === 'object' && d.code !== null ? String(d.code.value) : String(d.code)));
    assert.deepStrictEqual(codes, ['lock-leak']);
  });

  test('inlay hints come from the packaged parser (kobj_cache.c)', async () => {
    const folder = vscode.workspace.workspaceFolders![0]!;
    const doc = await vscode.workspace.openTextDocument(vscode.Uri.joinPath(folder.uri, 'kobj_cache.c'));
    await vscode.window.showTextDocument(doc);
    const line = lineOf(doc, 'kref_get_unless_zero(&obj->ref);');
    const labels = await waitFor('the get-unless-zero hint', async () => {
      const hints = await vscode.commands.executeCommand<vscode.InlayHint[]>('vscode.executeInlayHintProvider', doc.uri,
        new vscode.Range(0, 0, doc.lineCount, 0));
      const at = (hints ?? []).filter((h) => h.position.line === line)
        .map((h) => (typeof h.label === 'string' ? h.label : h.label.map((p) => p.value).join('')));
      return at.length > 0 && at;
    }, 60000);
    assert.deepStrictEqual(labels, ['+1 obj if ≠0']);
  });

  test('registers every command the package contributes', async () => {
    const contributed = ((ext.packageJSON as { contributes?: { commands?: Array<{ command: string }> } }).contributes?.commands ?? []).map((c) => c.command);
    assert.ok(contributed.length >= 8, `contributes ${contributed.length} commands`);
    const registered = new Set(await vscode.commands.getCommands(true));
    const missing = contributed.filter((c) => !registered.has(c));
    assert.deepStrictEqual(missing, [], 'every contributed command is registered');
  });
});
