/// <reference types="mocha" />
/*
 * Editor features in a real VS Code (web host 1.137 and Node host 1.100):
 * inlay hints, hovers, lock scopes, code actions that fix a finding, CodeLens,
 * every palette command of the extension, the SARIF export and the status bar.
 * The fixture is test/integration/workspace/kobj_cache.c (kernel style). Edits
 * are never saved; each test restores the document.
 */
import assert from 'assert';
import * as vscode from 'vscode';
import { lineOf, refscopeDiagnostics, screenshot, waitFor } from './util';

const FIXTURE = 'kobj_cache.c';

interface Api {
  statusText(): string;
}

function hoverText(hovers: vscode.Hover[]): string {
  return hovers.flatMap((h) => h.contents.map((c) => (typeof c === 'string' ? c : 'value' in c ? c.value : ''))).join('\n');
}

function labelOf(h: vscode.InlayHint): string {
  return typeof h.label === 'string' ? h.label : h.label.map((p) => p.value).join('');
}

/** 0-based line of the first line containing `needle` after the line containing `after`. */
function lineAfter(doc: vscode.TextDocument, after: string, needle: string): number {
  for (let i = lineOf(doc, after) + 1; i < doc.lineCount; i++) if (doc.lineAt(i).text.includes(needle)) return i;
  throw new Error(`no ${needle} after ${after}`);
}

function ruleOf(d: vscode.Diagnostic): string {
  return typeof d.code === 'object' && d.code ? String(d.code.value) : String(d.code ?? '');
}

async function inlayHints(doc: vscode.TextDocument): Promise<vscode.InlayHint[]> {
  const all = new vscode.Range(0, 0, doc.lineCount, 0);
  return (await vscode.commands.executeCommand<vscode.InlayHint[]>('vscode.executeInlayHintProvider', doc.uri, all)) ?? [];
}

suite('Refscope editor features in a real VS Code', function () {
  this.timeout(90000);
  let doc: vscode.TextDocument;
  let original: string;

  suiteSetup(async () => {
    const folder = vscode.workspace.workspaceFolders?.[0];
    assert.ok(folder, 'the fixture workspace folder is open');
    doc = await vscode.workspace.openTextDocument(vscode.Uri.joinPath(folder.uri, FIXTURE));
    original = doc.getText();
    await vscode.window.showTextDocument(doc);
    await waitFor('the findings of kobj_cache.c', () => refscopeDiagnostics(doc.uri).length === 2);
  });

  /** Puts the document back as it is on disk (edits are never saved). */
  async function restore(): Promise<void> {
    if (doc.getText() === original) return;
    const edit = new vscode.WorkspaceEdit();
    edit.replace(doc.uri, new vscode.Range(0, 0, doc.lineCount, 0), original);
    assert.ok(await vscode.workspace.applyEdit(edit));
    await waitFor('kobj_cache.c to be re-analysed after the restore', () => refscopeDiagnostics(doc.uri).length === 2);
  }

  suiteTeardown(async () => {
    await restore();
    if (doc.isDirty) {
      await vscode.window.showTextDocument(doc);
      await vscode.commands.executeCommand('workbench.action.files.revert');
    }
  });

  test('inlay hints after refcount operations (screenshot: kernel file with hints)', async () => {
    const got = await inlayHints(doc);
    const byLine = new Map<number, string[]>();
    for (const h of got) byLine.set(h.position.line, [...(byLine.get(h.position.line) ?? []), labelOf(h)]);
    const at = (needle: string): string[] => byLine.get(lineOf(doc, needle)) ?? [];
    assert.deepStrictEqual(at('kref_get_unless_zero(&obj->ref);'), ['+1 obj if ≠0'], JSON.stringify([...byLine]));
    assert.deepStrictEqual(at('kref_get(&obj->ref);'), ['+1 obj']);
    assert.deepStrictEqual(at('list_add(&obj->node'), ['ref → c->objects']);
    assert.deepStrictEqual(at('kref_put(&obj->ref'), ['−1 obj · may free']);
    // The hint sits right after the call's closing parenthesis.
    const put = got.find((h) => labelOf(h).startsWith('−1'))!;
    const line = doc.lineAt(put.position.line).text;
    assert.strictEqual(put.position.character, line.indexOf(')') + 1);
    const editor = await vscode.window.showTextDocument(doc);
    editor.revealRange(new vscode.Range(lineOf(doc, 'int kobj_publish'), 0, lineOf(doc, 'int kobj_publish'), 0), vscode.TextEditorRevealType.AtTop);
    await screenshot('kernel-file-hints');
  });

  test('hints can be switched off per kind (refscope.hints.refcount)', async () => {
    const cfg = vscode.workspace.getConfiguration('refscope');
    await cfg.update('hints.refcount', false, vscode.ConfigurationTarget.Global);
    try {
      await waitFor('refscope.hints.refcount to apply', () => vscode.workspace.getConfiguration('refscope').get('hints.refcount') === false);
      assert.deepStrictEqual((await inlayHints(doc)).map(labelOf), []);
    } finally {
      await cfg.update('hints.refcount', undefined, vscode.ConfigurationTarget.Global);
    }
    await waitFor('refscope.hints.refcount back to its default', () => vscode.workspace.getConfiguration('refscope').get('hints.refcount') === true);
    assert.ok((await inlayHints(doc)).length >= 4);
  });

  test('a function whose analysis stopped is marked "analysis incomplete" and yields no finding', async () => {
    // 300 locks each taken on some paths and never released: 2^300 held sets, past the lock analysis's step
    // bound (deterministic: a count, not a time), so it stops, says so, and reports none of its lock-leaks.
    const text = ['static int ladder(struct dev *d)', '{',
      ...Array.from({ length: 300 }, (_, i) => [`\tif (d->f${i})`, `\t\tspin_lock(&d->l${i});`]).flat(),
      '\treturn 0;', '}', ''].join('\n');
    const deep = await vscode.workspace.openTextDocument({ language: 'c', content: text });
    try {
      await vscode.window.showTextDocument(deep);
      const hint = await waitFor('the "analysis incomplete" hint', async () => (await inlayHints(deep)).find((h) => labelOf(h).includes('analysis incomplete')), 60000);
      assert.strictEqual(hint.position.line, 0, 'on the first line of the function');
      const tip = typeof hint.tooltip === 'string' ? hint.tooltip : hint.tooltip?.value ?? '';
      assert.match(tip, /lock analysis stopped: too many paths/);
      assert.match(tip, /No finding comes from an analysis that stopped/);
      assert.deepStrictEqual(refscopeDiagnostics(deep.uri), [], 'no finding from half an analysis');
      // the kind can be switched off
      const cfg = vscode.workspace.getConfiguration('refscope');
      await cfg.update('hints.incomplete', false, vscode.ConfigurationTarget.Global);
      try {
        await waitFor('refscope.hints.incomplete to apply', () => vscode.workspace.getConfiguration('refscope').get('hints.incomplete') === false);
        assert.ok(!(await inlayHints(deep)).some((h) => labelOf(h).includes('analysis incomplete')));
      } finally {
        await cfg.update('hints.incomplete', undefined, vscode.ConfigurationTarget.Global);
      }
    } finally {
      await vscode.window.showTextDocument(deep);
      await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
      await vscode.window.showTextDocument(doc);
    }
  });

  test('hover on a lock call: held set, effect, rule docs (screenshot)', async () => {
    const line = lineOf(doc, '\t\t\tmutex_unlock(&c->lock);');
    const pos = new vscode.Position(line, doc.lineAt(line).text.indexOf('mutex_unlock') + 3);
    const hovers = await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', doc.uri, pos);
    const text = hoverText(hovers ?? []);
    assert.match(text, /\*\*Held here:\*\* `c->lock`/, text);
    assert.match(text, /releases the mutex/);
    assert.match(text, /\[lock-leak\]\(https:\/\/[^)]*lock-leak\.md\)/);
    const editor = await vscode.window.showTextDocument(doc);
    editor.selection = new vscode.Selection(pos, pos);
    editor.revealRange(new vscode.Range(pos, pos), vscode.TextEditorRevealType.InCenter);
    await vscode.commands.executeCommand('editor.action.showHover');
    await screenshot('hover-lock-call');
    await vscode.commands.executeCommand('editor.action.hideHover').then(undefined, () => undefined);
  });

  test('hover on a refcount call: effect, object type, lifecycle link', async () => {
    const line = lineOf(doc, 'kref_get(&obj->ref);');
    const pos = new vscode.Position(line, doc.lineAt(line).text.indexOf('kref_get') + 2);
    const text = hoverText(await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', doc.uri, pos) ?? []);
    assert.match(text, /takes a reference on `obj`/, text);
    assert.match(text, /\*\*Refcount:\*\* `\+1 obj` on `obj` \(`struct kobj`\)/);
    assert.match(text, /Held here:\*\* `c->lock`/);
    assert.match(text, /command:refscope\.simulateLifecycle\?/);
  });

  test('hover on a finding offers the rule docs and "Play race scenario"', async () => {
    const d = refscopeDiagnostics(doc.uri).find((x) => ruleOf(x) === 'lock-leak')!;
    const text = hoverText(await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', doc.uri, d.range.start.translate(0, 1)) ?? []);
    assert.match(text, /Play race scenario `error-path-lock-leak`\]\(command:refscope\.openScenario\?/, text);
    const arg = /command:refscope\.openScenario\?([^)]*)\)/.exec(text)![1]!;
    assert.deepStrictEqual(JSON.parse(decodeURIComponent(arg)), [{ scenario: 'error-path-lock-leak' }]);
  });

  test('Show Lock Scopes in Function lists where c->lock is held', async () => {
    const editor = await vscode.window.showTextDocument(doc);
    const at = new vscode.Position(lineOf(doc, 'list_add(&obj->node'), 1);
    editor.selection = new vscode.Selection(at, at);
    const items = await vscode.commands.executeCommand<Array<{ lock: string; kind: string; ranges: Array<{ start: number; end: number }> }>>('refscope.showLockScopes');
    await vscode.commands.executeCommand('workbench.action.closeQuickOpen');
    assert.deepStrictEqual(items, [{
      lock: 'c->lock', kind: 'mutex',
      ranges: [{ start: lineAfter(doc, 'int kobj_publish', 'mutex_lock(&c->lock);') + 1, end: lineOf(doc, 'out_unlock:') + 2 }],
    }]);
  });

  test('code action: an early return jumps to the existing unlock label, and the lock-leak disappears', async () => {
    const d = await waitFor('the lock-leak finding', () => refscopeDiagnostics(doc.uri).find((x) => ruleOf(x) === 'lock-leak'));
    assert.strictEqual(d.range.start.line, lineOf(doc, 'return -EINVAL;'));
    const actions = await vscode.commands.executeCommand<vscode.CodeAction[]>('vscode.executeCodeActionProvider', doc.uri, d.range, vscode.CodeActionKind.QuickFix.value);
    const titles = (actions ?? []).map((a) => a.title);
    const fix = (actions ?? []).find((a) => a.title === 'Jump to the unlock label ‘out_unlock’ instead of returning');
    assert.ok(fix?.edit, `actions: ${JSON.stringify(titles)}`);
    assert.ok(titles.includes('Release ‘c->lock’ before returning'), JSON.stringify(titles));
    assert.ok(titles.includes('Play race scenario ‘error-path-lock-leak’'), JSON.stringify(titles));
    assert.ok(await vscode.workspace.applyEdit(fix.edit));
    assert.match(doc.getText(), /if \(obj->id < 0\) \{\n\t\tret = -EINVAL;\n\t\tgoto out_unlock;\n\t\}/);
    await waitFor('the lock-leak diagnostic to disappear', () => {
      const ds = refscopeDiagnostics(doc.uri);
      return ds.length === 1 && ruleOf(ds[0]!) === 'unchecked-get-unless-zero';
    });
    await restore();
  });

  test('code action: release the lock before returning also fixes it', async () => {
    const d = await waitFor('the lock-leak finding', () => refscopeDiagnostics(doc.uri).find((x) => ruleOf(x) === 'lock-leak'));
    const actions = await vscode.commands.executeCommand<vscode.CodeAction[]>('vscode.executeCodeActionProvider', doc.uri, d.range, vscode.CodeActionKind.QuickFix.value);
    const fix = (actions ?? []).find((a) => a.title === 'Release ‘c->lock’ before returning');
    assert.ok(fix?.edit);
    assert.ok(await vscode.workspace.applyEdit(fix.edit));
    assert.match(doc.getText(), /if \(obj->id < 0\) \{\n\t\tmutex_unlock\(&c->lock\);\n\t\treturn -EINVAL;\n\t\}/);
    await waitFor('the lock-leak diagnostic to disappear', () => !refscopeDiagnostics(doc.uri).some((x) => ruleOf(x) === 'lock-leak'));
    assert.strictEqual(refscopeDiagnostics(doc.uri).length, 1);
    await restore();
  });

  test('code action: check an ignored kref_get_unless_zero() result, and the finding disappears', async () => {
    const d = await waitFor('the unchecked-get-unless-zero finding', () => refscopeDiagnostics(doc.uri).find((x) => ruleOf(x) === 'unchecked-get-unless-zero'));
    const actions = await vscode.commands.executeCommand<vscode.CodeAction[]>('vscode.executeCodeActionProvider', doc.uri, d.range, vscode.CodeActionKind.QuickFix.value);
    const fix = (actions ?? []).find((a) => a.title === 'Check the result of kref_get_unless_zero()');
    assert.ok(fix?.edit, JSON.stringify((actions ?? []).map((a) => a.title)));
    assert.ok(await vscode.workspace.applyEdit(fix.edit));
    // The failure branch releases the lock held at the call before returning.
    assert.match(doc.getText(), /if \(!kref_get_unless_zero\(&obj->ref\)\) \{\n\t\t\t\tmutex_unlock\(&c->lock\);\n\t\t\t\treturn NULL;\n\t\t\t\}/);
    await waitFor('the unchecked-get-unless-zero diagnostic to disappear', () => {
      const ds = refscopeDiagnostics(doc.uri);
      return ds.length === 1 && ruleOf(ds[0]!) === 'lock-leak';
    });
    await restore();
  });

  test('refactors at the cursor: kref_get -> kref_get_unless_zero, kref_put under the mutex -> kref_put_mutex', async () => {
    const getLine = lineOf(doc, 'kref_get(&obj->ref);');
    const at = new vscode.Position(getLine, doc.lineAt(getLine).text.indexOf('kref_get') + 1);
    const actions = await vscode.commands.executeCommand<vscode.CodeAction[]>('vscode.executeCodeActionProvider', doc.uri, new vscode.Range(at, at));
    const fix = (actions ?? []).find((a) => a.title === 'Use kref_get_unless_zero() with a failure branch');
    assert.ok(fix?.edit, JSON.stringify((actions ?? []).map((a) => a.title)));
    assert.ok(await vscode.workspace.applyEdit(fix.edit));
    assert.match(doc.getText(), /if \(!kref_get_unless_zero\(&obj->ref\)\) \{\n\t\tmutex_unlock\(&c->lock\);\n\t\treturn -ENOENT;\n\t\}/);
    await restore();

    const putLine = lineOf(doc, 'kref_put(&obj->ref');
    const p = new vscode.Position(putLine, doc.lineAt(putLine).text.indexOf('kref_put') + 1);
    const actions2 = await vscode.commands.executeCommand<vscode.CodeAction[]>('vscode.executeCodeActionProvider', doc.uri, new vscode.Range(p, p));
    const fix2 = (actions2 ?? []).find((a) => a.title.startsWith('Use kref_put_mutex()'));
    assert.ok(fix2?.edit, JSON.stringify((actions2 ?? []).map((a) => a.title)));
    assert.ok(await vscode.workspace.applyEdit(fix2.edit));
    assert.match(doc.getText(), /\tmutex_lock\(&c->lock\);\n\tmutex_unlock\(&c->lock\);\n\tkref_put_mutex\(&obj->ref, kobj_release, &c->lock\);\n\}/);
    await restore();
  });

  test('CodeLens "Simulate lifecycle of struct kobj" runs refscope.simulateLifecycle with the type', async () => {
    const lenses = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', doc.uri, 100);
    const mine = (lenses ?? []).filter((l) => l.command?.command === 'refscope.simulateLifecycle');
    const lookup = lineOf(doc, 'struct kobj *kobj_lookup(');
    const lens = mine.find((l) => l.range.start.line === lookup);
    assert.ok(lens, `lenses: ${JSON.stringify(mine.map((l) => [l.range.start.line, l.command?.title]))}`);
    assert.strictEqual(lens.command!.title, 'Simulate lifecycle of struct kobj');
    assert.deepStrictEqual(lens.command!.arguments, [{ typeName: 'struct kobj', uri: doc.uri.toString(), line: lookup }]);
    // kobj_release() handles no reference itself: no lens there.
    assert.ok(!mine.some((l) => l.range.start.line === lineOf(doc, 'static void kobj_release')));
  });

  test('Analyze Workspace, then the status bar reaches "N findings"', async () => {
    const r = await vscode.commands.executeCommand<{ files: number; findings: number; cancelled: boolean; perFile: Record<string, number> }>('refscope.analyzeWorkspace');
    assert.ok(r && !r.cancelled, JSON.stringify(r));
    assert.ok(r.files >= 3, `files analysed: ${r.files}`);
    // foo_dev.c (1), foo_dev.h (1), kobj_cache.c (2).
    assert.ok(r.findings >= 4, `findings: ${r.findings} ${JSON.stringify(r.perFile)}`);
    assert.strictEqual(r.perFile[FIXTURE], 2);
    const api = vscode.extensions.getExtension('refscope.refscope')!.exports as Api;
    const total = (): number => vscode.languages.getDiagnostics().reduce((n, [, ds]) => n + ds.filter((d) => d.source === 'refscope').length, 0);
    const text = await waitFor('the status bar to show the findings', () => {
      const t = api.statusText();
      return /^Refscope: \d+ findings?$/.test(t) && t;
    });
    assert.strictEqual(text, `Refscope: ${total()} findings`);
    await vscode.commands.executeCommand('workbench.actions.view.problems');
    await screenshot('problems-panel-workspace');
    await vscode.commands.executeCommand('workbench.action.closePanel');
  });

  test('Export Findings as SARIF writes a valid SARIF 2.1.0 log', async () => {
    const folder = vscode.workspace.workspaceFolders![0]!;
    const target = vscode.Uri.joinPath(folder.uri, 'out-refscope-test.sarif');
    const written = await vscode.commands.executeCommand<string>('refscope.exportSarif', target);
    assert.strictEqual(written, target.toString());
    try {
      const log = JSON.parse(new TextDecoder().decode(await vscode.workspace.fs.readFile(target))) as {
        $schema: string; version: string;
        runs: Array<{ tool: { driver: { name: string; rules: Array<{ id: string; helpUri: string }> } }; results: Array<{ ruleId: string; ruleIndex: number; level: string; message: { text: string }; locations: Array<{ physicalLocation: { artifactLocation: { uri: string; uriBaseId?: string }; region: { startLine: number; startColumn: number } } }>; codeFlows?: unknown[] }> }>;
      };
      assert.strictEqual(log.version, '2.1.0');
      assert.match(log.$schema, /sarif-2\.1\.0/);
      assert.strictEqual(log.runs.length, 1);
      const run = log.runs[0]!;
      assert.strictEqual(run.tool.driver.name, 'refscope');
      const ids = run.tool.driver.rules.map((r) => r.id);
      assert.ok(ids.includes('lock-leak') && ids.includes('unchecked-get-unless-zero'));
      const leak = run.results.find((r) => r.ruleId === 'lock-leak' && r.locations[0]!.physicalLocation.artifactLocation.uri === FIXTURE);
      assert.ok(leak, JSON.stringify(run.results.map((r) => [r.ruleId, r.locations[0]!.physicalLocation.artifactLocation.uri])));
      assert.strictEqual(run.tool.driver.rules[leak.ruleIndex]!.id, 'lock-leak');
      assert.strictEqual(leak.level, 'warning');
      assert.strictEqual(leak.locations[0]!.physicalLocation.artifactLocation.uriBaseId, '%SRCROOT%');
      assert.strictEqual(leak.locations[0]!.physicalLocation.region.startLine, lineOf(doc, 'return -EINVAL;') + 1);
      assert.ok(Array.isArray(leak.codeFlows) && leak.codeFlows.length === 1);
      for (const r of run.results) {
        assert.ok(r.ruleIndex >= 0 && r.ruleIndex < run.tool.driver.rules.length);
        assert.ok(r.message.text.length > 0);
        assert.ok(r.locations[0]!.physicalLocation.region.startLine >= 1 && r.locations[0]!.physicalLocation.region.startColumn >= 1);
      }
    } finally {
      await vscode.workspace.fs.delete(target);
    }
  });

  test('every other palette command runs without error', async () => {
    await vscode.window.showTextDocument(doc);
    const contributed = (vscode.extensions.getExtension('refscope.refscope')!.packageJSON as { contributes: { commands: Array<{ command: string; category: string }> } }).contributes.commands;
    const registered = await vscode.commands.getCommands(true);
    for (const c of contributed) {
      assert.strictEqual(c.category, 'Refscope', c.command);
      assert.ok(registered.includes(c.command), `${c.command} is registered`);
    }
    // Toggle Hints: off (no inlay hints at all), then on again.
    assert.strictEqual(await vscode.commands.executeCommand<boolean>('refscope.toggleHints'), false);
    await waitFor('hints to be off', () => vscode.workspace.getConfiguration('refscope').get('hints.enable') === false);
    assert.deepStrictEqual(await inlayHints(doc), []);
    assert.strictEqual(await vscode.commands.executeCommand<boolean>('refscope.toggleHints'), true);
    await waitFor('hints to be on', () => vscode.workspace.getConfiguration('refscope').get('hints.enable') === true);
    assert.ok((await inlayHints(doc)).length >= 4);
    await vscode.workspace.getConfiguration('refscope').update('hints.enable', undefined, vscode.ConfigurationTarget.Global);

    const files = await vscode.commands.executeCommand<number>('refscope.rebuildIndex');
    assert.ok(files >= 3, `indexed files: ${files}`);

    const opened = await vscode.commands.executeCommand<string>('refscope.openRuleDocs', 'lock-leak');
    assert.match(opened ?? '', /lock-leak\.md$/);
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');

    assert.strictEqual(await vscode.commands.executeCommand<number>('refscope.analyzeFile', doc.uri), 2);
    await vscode.commands.executeCommand('refscope.showOutput');
  });
});
