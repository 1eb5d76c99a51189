/// <reference types="mocha" />
/*
 * Primitives from the workspace in a real VS Code (web host 1.137 and Node host
 * 1.100): `.refscope.json` at the workspace root extends the built-in catalog
 * (a custom lock pair makes a lock-leak appear), an invalid one gets an error
 * diagnostic in that file while the built-ins stay in force, and removing it
 * goes back to the built-ins. The C code is an untitled document, so the
 * fixture workspace's own findings are untouched. (Restricted mode, which
 * ignores these primitives, is covered by test/unit/catalog.test.ts: the test
 * builds open their workspace trusted.)
 */
import assert from 'assert';
import * as vscode from 'vscode';
import { refscopeDiagnostics, waitFor } from './util';

const CODE = [
  'struct dev { spinlock_t lock; int broken; };',
  '',
  'static int poke_custom(struct dev *d)',
  '{',
  '\tfoo_lock(d);',
  '\tif (d->broken)',
  '\t\treturn -EIO;',
  '\tfoo_unlock(d);',
  '\treturn 0;',
  '}',
  '',
  'static int poke_builtin(struct dev *d)',
  '{',
  '\tspin_lock(&d->lock);',
  '\tif (d->broken)',
  '\t\treturn -EIO;',
  '\tspin_unlock(&d->lock);',
  '\treturn 0;',
  '}',
  '',
].join('\n');

function leaks(doc: vscode.TextDocument): string[] {
  return refscopeDiagnostics(doc.uri)
    .filter((d) => (typeof d.code === 'object' && d.code ? String(d.code.value) : String(d.code)) === 'lock-leak')
    .map((d) => doc.lineAt(d.range.start.line).text.trim() + '@' + (d.range.start.line + 1))
    .sort();
}

suite('Refscope primitives from .refscope.json in a real VS Code', function () {
  this.timeout(90000);
  let doc: vscode.TextDocument;
  let cfg: vscode.Uri;
  const enc = new TextEncoder();

  suiteSetup(async () => {
    const folder = vscode.workspace.workspaceFolders?.[0];
    assert.ok(folder, 'the fixture workspace folder is open');
    assert.ok(vscode.workspace.isTrusted, 'the test workspace is trusted');
    cfg = vscode.Uri.joinPath(folder.uri, '.refscope.json');
    doc = await vscode.workspace.openTextDocument({ language: 'c', content: CODE });
    await vscode.window.showTextDocument(doc);
  });

  suiteTeardown(async () => {
    try {
      await vscode.workspace.fs.delete(cfg);
    } catch {
      // already gone
    }
    await vscode.window.showTextDocument(doc);
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
  });

  test('without .refscope.json only the built-in primitives count', async () => {
    await waitFor('the built-in lock-leak in the untitled document', () => leaks(doc).length === 1);
    assert.deepStrictEqual(leaks(doc), ['return -EIO;@16']);
  });

  test('an invalid .refscope.json: an error diagnostic at the bad key in that file, the built-ins stay in force', async () => {
    await vscode.workspace.fs.writeFile(cfg, enc.encode('{\n  "locks": [\n    { "acquire": "foo_lock", "release": "foo_unlock", "kind": "bogus" }\n  ]\n}\n'));
    const d = await waitFor('the config diagnostic in .refscope.json', () => refscopeDiagnostics(cfg)[0]);
    assert.strictEqual(d.severity, vscode.DiagnosticSeverity.Error);
    assert.strictEqual(d.code, 'config');
    assert.match(d.message, /locks\[0\]\.kind/);
    assert.match(d.message, /built-in primitives/);
    assert.strictEqual(d.range.start.line, 2, 'the diagnostic sits on the line of the bad key');
    await new Promise((r) => setTimeout(r, 500));
    assert.deepStrictEqual(leaks(doc), ['return -EIO;@16']);
  });

  test('a valid .refscope.json adds its lock pair: the custom lock leaks too; its diagnostic is gone', async () => {
    await vscode.workspace.fs.writeFile(cfg, enc.encode(JSON.stringify({ locks: [{ acquire: 'foo_lock', release: 'foo_unlock', kind: 'spinlock' }] }, null, 2)));
    await waitFor('the custom lock-leak', () => leaks(doc).length === 2);
    assert.deepStrictEqual(leaks(doc), ['return -EIO;@16', 'return -EIO;@7']);
    await waitFor('the config diagnostic to go', () => refscopeDiagnostics(cfg).length === 0);
  });

  test('deleting .refscope.json goes back to the built-ins', async () => {
    await vscode.workspace.fs.delete(cfg);
    await waitFor('the custom lock-leak to go', () => leaks(doc).length === 1);
    assert.deepStrictEqual(leaks(doc), ['return -EIO;@16']);
  });
});
