/// <reference types="mocha" />
/*
 * Runs inside a real VS Code (web host of 1.137 via @vscode/test-web, Node host
 * of 1.100 via code-server, or a desktop build via @vscode/test-electron) with
 * test/integration/workspace open. Nothing here is mocked: the extension under
 * test is the built dist/ bundle with the real WASM parser.
 */
import assert from 'assert';
import * as vscode from 'vscode';
import { ruleMeta } from '../../../src/core/rules/registry';
import { lineOf, refscopeDiagnostics, replaceLine, screenshot, waitFor } from './util';

const FIXTURE = 'foo_dev.c';

suite('Refscope diagnostics in a real VS Code', function () {
  this.timeout(60000);
  let doc: vscode.TextDocument;

  suiteSetup(async () => {
    const folder = vscode.workspace.workspaceFolders?.[0];
    assert.ok(folder, 'the fixture workspace folder is open');
    doc = await vscode.workspace.openTextDocument(vscode.Uri.joinPath(folder.uri, FIXTURE));
    await vscode.window.showTextDocument(doc);
  });

  suiteTeardown(async () => {
    // Never save: the fixture on disk must stay as it is.
    if (doc && doc.isDirty) await vscode.commands.executeCommand('workbench.action.files.revert');
  });

  test('activates on a kernel C file', async () => {
    assert.strictEqual(doc.languageId, 'c');
    const ext = vscode.extensions.getExtension('refscope.refscope');
    assert.ok(ext, 'extension refscope.refscope is installed');
    await waitFor('the extension to activate', () => ext.isActive);
    // The entry that VS Code picked for this host: `browser` in the web worker, `main` in Node.
    const expected = (globalThis as { refscopeTestHost?: string }).refscopeTestHost;
    assert.ok(expected, 'the test entry declares the expected host');
    const api = ext.exports as { host?: string; backend?: string } | undefined;
    assert.strictEqual(api?.host, expected);
    // Desktop: files are analysed in a Node worker thread; web: in the (worker) extension host itself.
    assert.strictEqual(api?.backend, expected === 'desktop' ? 'worker' : 'in-process');
    // Activation reached the end (the parser loaded, the features registered).
    const commands = await vscode.commands.getCommands(true);
    assert.ok(commands.includes('refscope.analyzeFile'), 'refscope.analyzeFile is registered');
  });

  test('reports lock-leak at the error-path return, with rule link and path trace', async () => {
    const lockLine = lineOf(doc, 'mutex_lock(&fd->lock);');
    const leakLine = lineOf(doc, 'return -ENOMEM;');
    const diags = await waitFor('a Refscope diagnostic in foo_dev.c', () => {
      const d = refscopeDiagnostics(doc.uri);
      return d.length > 0 && d;
    });
    // foo_dev_stop() unlocks on every path: exactly one finding, in foo_dev_start().
    assert.strictEqual(diags.length, 1, `diagnostics: ${JSON.stringify(diags.map((d) => [d.range.start.line, d.message]))}`);
    const d = diags[0]!;

    assert.ok(typeof d.code === 'object' && d.code !== null, 'code carries a link target');
    const code = d.code as { value: string | number; target: vscode.Uri };
    assert.strictEqual(code.value, 'lock-leak');
    const help = ruleMeta('lock-leak')?.helpUri;
    assert.ok(help, 'lock-leak has a help page');
    assert.strictEqual(code.target.toString(), vscode.Uri.parse(help).toString());

    assert.strictEqual(d.severity, vscode.DiagnosticSeverity.Warning);
    assert.strictEqual(d.range.start.line, leakLine);
    assert.strictEqual(d.range.start.character, doc.lineAt(leakLine).text.indexOf('return'));
    assert.match(d.message, /foo_dev_start\(\) returns here/);

    const trace = d.relatedInformation ?? [];
    assert.ok(trace.length >= 2, `trace has the acquire and the return (got ${trace.length})`);
    const first = trace[0]!;
    const last = trace[trace.length - 1]!;
    assert.strictEqual(first.location.uri.toString(), doc.uri.toString());
    assert.strictEqual(first.location.range.start.line, lockLine);
    assert.match(first.message, /mutex_lock/);
    assert.strictEqual(last.location.uri.toString(), doc.uri.toString());
    assert.strictEqual(last.location.range.start.line, leakLine);
  });

  test('the finding shows in the Problems panel and on hover (screenshots kept in out/screenshots/)', async () => {
    const leakLine = lineOf(doc, 'return -ENOMEM;');
    const editor = await vscode.window.showTextDocument(doc);
    await vscode.commands.executeCommand('workbench.actions.view.problems');
    const at = new vscode.Position(leakLine, doc.lineAt(leakLine).text.indexOf('return') + 2);
    editor.selection = new vscode.Selection(at, at);
    editor.revealRange(new vscode.Range(at, at), vscode.TextEditorRevealType.InCenter);
    await screenshot('problems-panel');
    await vscode.commands.executeCommand('editor.action.showHover');
    await screenshot('diagnostic-hover');
    // The hover the editor shows is built from the same diagnostics the Problems panel lists.
    assert.strictEqual(refscopeDiagnostics(doc.uri).length, 1);
    await vscode.commands.executeCommand('workbench.action.closePanel');
  });

  test('refscope.analyzeFile re-analyses the active file and returns the number of findings', async () => {
    const n = await vscode.commands.executeCommand<number | undefined>('refscope.analyzeFile');
    assert.strictEqual(n, 1);
  });

  test('fixing the bug makes the diagnostic disappear; undoing the fix brings it back', async () => {
    const leakLine = lineOf(doc, 'return -ENOMEM;');
    const original = doc.lineAt(leakLine).text;
    await replaceLine(doc, leakLine, '\t\t{ mutex_unlock(&fd->lock); return -ENOMEM; }');
    await waitFor('the lock-leak diagnostic to disappear after the fix', () => refscopeDiagnostics(doc.uri).length === 0);
    assert.strictEqual(await vscode.commands.executeCommand<number | undefined>('refscope.analyzeFile'), 0);

    await replaceLine(doc, leakLine, original);
    const back = await waitFor('the diagnostic to come back', () => {
      const d = refscopeDiagnostics(doc.uri);
      return d.length === 1 && d;
    });
    assert.strictEqual(back[0]!.range.start.line, leakLine);
  });

  test('a burst of edits inside the debounce window is analysed once, in its final state', async () => {
    const cfg = vscode.workspace.getConfiguration('refscope');
    await cfg.update('debounceMs', 1500, vscode.ConfigurationTarget.Global);
    await waitFor('refscope.debounceMs to apply', () => vscode.workspace.getConfiguration('refscope').get('debounceMs') === 1500);
    // A settings change re-analyses open files at once: let that run finish before counting.
    await new Promise((r) => setTimeout(r, 500));
    const leakLine = lineOf(doc, 'return -ENOMEM;');
    const original = doc.lineAt(leakLine).text;
    const fixed = '\t\t{ mutex_unlock(&fd->lock); return -ENOMEM; }';
    // Diagnostic counts of foo_dev.c as published: a spurious re-publish of the same state is
    // harmless, an intermediate state (fixed, then broken again) must never be published.
    const seen: number[] = [];
    const sub = vscode.languages.onDidChangeDiagnostics((e) => {
      if (e.uris.some((u) => u.toString() === doc.uri.toString())) seen.push(refscopeDiagnostics(doc.uri).length);
    });
    try {
      // fixed, broken, fixed, broken, fixed: four intermediate states.
      for (const text of [fixed, original, fixed, original, fixed]) await replaceLine(doc, leakLine, text);
      assert.strictEqual(refscopeDiagnostics(doc.uri).length, 1, 'nothing is published before the debounce delay');
      await waitFor('the final (fixed) state to be published', () => refscopeDiagnostics(doc.uri).length === 0);
      await new Promise((r) => setTimeout(r, 500));
      const states = seen.filter((n, i) => i === 0 || n !== seen[i - 1]);
      const firstFixed = states.indexOf(0);
      assert.ok(firstFixed >= 0 && states.slice(firstFixed).every((n) => n === 0),
        `published states of foo_dev.c during one burst of edits: ${JSON.stringify(seen)}`);
    } finally {
      sub.dispose();
      await replaceLine(doc, lineOf(doc, 'return -ENOMEM;'), original);
      await cfg.update('debounceMs', undefined, vscode.ConfigurationTarget.Global);
    }
    await waitFor('the diagnostic to come back after restoring the file', () => refscopeDiagnostics(doc.uri).length === 1);
  });

  test('refscope.disabledRules turns a rule off and back on', async () => {
    const cfg = vscode.workspace.getConfiguration('refscope');
    await cfg.update('disabledRules', ['lock-leak'], vscode.ConfigurationTarget.Global);
    try {
      await waitFor('lock-leak to be hidden by refscope.disabledRules', () => refscopeDiagnostics(doc.uri).length === 0);
    } finally {
      await cfg.update('disabledRules', undefined, vscode.ConfigurationTarget.Global);
    }
    await waitFor('lock-leak to be reported again', () => refscopeDiagnostics(doc.uri).length === 1);
  });

  test('kernel headers are analysed too (.h, which VS Code may call C++)', async () => {
    const folder = vscode.workspace.workspaceFolders![0]!;
    const header = await vscode.workspace.openTextDocument(vscode.Uri.joinPath(folder.uri, 'foo_dev.h'));
    assert.ok(['c', 'cpp'].includes(header.languageId), `language of foo_dev.h: ${header.languageId}`);
    const diags = await waitFor('a Refscope diagnostic in foo_dev.h', () => {
      const d = refscopeDiagnostics(header.uri);
      return d.length > 0 && d;
    });
    assert.strictEqual(diags.length, 1);
    assert.strictEqual((diags[0]!.code as { value: string }).value, 'lock-leak');
    assert.strictEqual(diags[0]!.range.start.line, lineOf(header, 'return -EBUSY;'));
  });

  test('refscope.showOutput runs', async () => {
    await vscode.commands.executeCommand('refscope.showOutput');
  });
});
