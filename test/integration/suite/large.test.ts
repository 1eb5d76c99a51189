/// <reference types="mocha" />
/*
 * A 20 MB file in a real VS Code must not block the extension host: a command
 * issued right after it is opened (Analyze Current File on another file; while
 * the worker is busy with the big file, a hover on another file, answered by the
 * extension in the extension host) responds within 500 ms.
 *
 * - Both hosts, default settings: the file is over `refscope.maxFileSizeKB`
 *   (2 MB), so it is not analysed (the log says so) and nothing waits on it.
 * - Node host (VS Code 1.100, code-server): with the limit raised to 32 MB the
 *   file IS analysed, in the analysis worker thread: the request right after the
 *   analysis starts still responds within 500 ms, and the file's findings arrive
 *   later. (In the web host analysis runs on the extension host's own thread,
 *   which is why the size limit exists; README "Known limits".)
 */
import assert from 'assert';
import * as vscode from 'vscode';
import { lineOf, refscopeDiagnostics, waitFor } from './util';

const host = (): string => (globalThis as { refscopeTestHost?: string }).refscopeTestHost ?? 'node';

/** About 20 MB of small kernel-style functions and one real lock leak at the end. */
function generated(): string {
  const fn = (i: number): string => `static int f${i}(struct dev *d)\n{\n\tint r;\n\n\tmutex_lock(&d->lock);\n\tr = d->ops->go(d, ${i});\n\tif (r)\n\t\tgoto out;\n\td->n++;\nout:\n\tmutex_unlock(&d->lock);\n\treturn r;\n}\n\n`;
  const parts: string[] = [];
  let len = 0;
  for (let i = 0; len < 20 << 20; i++) {
    parts.push(fn(i));
    len += parts[i]!.length;
  }
  parts.push('static int last_leak(struct dev *d)\n{\n\tspin_lock(&d->slock);\n\tif (d->broken)\n\t\treturn -EIO;\n\tspin_unlock(&d->slock);\n\treturn 0;\n}\n');
  return parts.join('');
}

suite('Refscope with a 20 MB file in a real VS Code', function () {
  this.timeout(300000);
  let big: vscode.TextDocument;
  let fixture: vscode.TextDocument;

  /** ms a hover request on the fixture takes (it goes through Refscope's hover provider). */
  async function hoverMs(): Promise<number> {
    const line = lineOf(fixture, 'mutex_unlock(&c->lock);');
    const pos = new vscode.Position(line, fixture.lineAt(line).text.indexOf('mutex_unlock') + 3);
    const t0 = Date.now();
    const hovers = await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', fixture.uri, pos);
    const ms = Date.now() - t0;
    assert.ok((hovers ?? []).length > 0, 'the hover answered');
    return ms;
  }

  suiteSetup(async () => {
    const folder = vscode.workspace.workspaceFolders?.[0];
    assert.ok(folder);
    fixture = await vscode.workspace.openTextDocument(vscode.Uri.joinPath(folder.uri, 'kobj_cache.c'));
    await hoverMs(); // warm: the fixture is analysed before the big file arrives
  });

  suiteTeardown(async () => {
    await vscode.workspace.getConfiguration('refscope').update('maxFileSizeKB', undefined, vscode.ConfigurationTarget.Global);
    if (big) {
      await vscode.window.showTextDocument(big);
      await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
    }
  });

  test('opening it does not block: a request right after responds within 500 ms (default size limit: not analysed)', async () => {
    const text = generated();
    assert.ok(text.length >= 20 << 20);
    const t0 = Date.now();
    big = await vscode.workspace.openTextDocument({ language: 'c', content: text });
    const opened = Date.now() - t0;
    await vscode.window.showTextDocument(big, { preview: false });
    const shown = Date.now() - t0 - opened;
    // How long the extension host's own event loop is held right after (a timer's lateness).
    const t1 = Date.now();
    await new Promise((r) => setTimeout(r, 0));
    const lag = Date.now() - t1;
    // A palette command right after: Analyze Current File on the fixture (analysed now, in process or in the worker).
    const t2 = Date.now();
    const n = await vscode.commands.executeCommand<number>('refscope.analyzeFile', fixture.uri);
    const ms = Date.now() - t2;
    assert.strictEqual(n, 2, 'the command did its work: the fixture\'s two findings');
    const hover = await hoverMs();
    console.log(`refscope-test: ${host()}: ${(text.length / (1 << 20)).toFixed(1)} MB file: openTextDocument ${opened} ms, showTextDocument ${shown} ms, `
      + `extension-host timer lag ${lag} ms, refscope.analyzeFile right after ${ms} ms, then a hover (through the workbench) ${hover} ms`);
    assert.ok(ms <= 500, `the command answered in ${ms} ms`);
    await new Promise((r) => setTimeout(r, 1000));
    assert.deepStrictEqual(refscopeDiagnostics(big.uri), [], 'over refscope.maxFileSizeKB: not analysed');
  });

  test('Node host: with the limit raised the file is analysed in the worker, and the host still answers within 500 ms', async function () {
    if (host() === 'web') {
      // The web host analyses on its own thread: files over the limit are not analysed there (asserted above).
      assert.strictEqual((await vscode.workspace.getConfiguration('refscope').get('maxFileSizeKB')), 2048);
      return;
    }
    await vscode.workspace.getConfiguration('refscope').update('maxFileSizeKB', 32768, vscode.ConfigurationTarget.Global);
    await waitFor('the raised limit', () => vscode.workspace.getConfiguration('refscope').get('maxFileSizeKB') === 32768);
    await new Promise((r) => setTimeout(r, 200)); // the re-analysis of every open document starts
    const during = await hoverMs();
    console.log(`refscope-test: node: hover while the worker analyses the 20 MB file: ${during} ms`);
    assert.ok(during <= 500, `the extension host answered in ${during} ms during the analysis`);
    const t0 = Date.now();
    const leak = await waitFor('the 20 MB file\'s lock-leak', () => refscopeDiagnostics(big.uri).find((d) => String(typeof d.code === 'object' && d.code ? d.code.value : d.code) === 'lock-leak'), 280000);
    console.log(`refscope-test: node: the 20 MB file analysed in ${Date.now() - t0} ms after the hover`);
    assert.strictEqual(big.lineAt(leak.range.start.line).text.trim(), 'return -EIO;');
    assert.strictEqual(refscopeDiagnostics(big.uri).length, 1, 'the generated functions are clean; only the real leak');
    const after = await hoverMs();
    assert.ok(after <= 500, `after the results arrived: ${after} ms`);
  });
});
