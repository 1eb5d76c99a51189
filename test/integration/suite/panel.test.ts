/// <reference types="mocha" />
/*
 * The lifecycle panel in a real VS Code: opened as the CodeLens opens it
 * (`refscope.simulateLifecycle` with a type name), from the identifier under
 * the cursor, and as a diagnostic's "Play race scenario" opens it
 * (`refscope.openScenario`). The webview runs the exploration in its worker and
 * reports back; a reveal message moves the editor's selection. The panel's
 * internal test hook (`refscope._panelTestHook`) shows what the host received
 * from the real webview and lets the test deliver a message as the webview would.
 */
import assert from 'assert';
import * as vscode from 'vscode';
import { lineOf, screenshot, waitFor } from './util';

const FIXTURE = 'panel_widget.c';
const SEED = 'seed-struct-mutex-around-unref';

interface PanelRecord {
  key: string;
  title: string;
  visible: boolean;
  ready: boolean;
  roles: string[];
  received: Array<{ type: string }>;
  statuses: Array<{ runId: number; status: string; verdict?: string; states?: number; kinds?: string[] }>;
  rejected: string[];
}
interface HookState {
  panels: PanelRecord[];
  lastReveal?: { uri: string; line: number; focus: boolean };
}

const HOOK = 'refscope._panelTestHook';

async function hook(): Promise<HookState> {
  return (await vscode.commands.executeCommand(HOOK, { action: 'state' })) as HookState;
}

async function panel(key: string, what: string, probe: (p: PanelRecord) => boolean, timeoutMs = 40000): Promise<PanelRecord> {
  let last: PanelRecord | undefined;
  const t0 = Date.now();
  for (;;) {
    last = (await hook()).panels.find((p) => p.key === key);
    if (last && probe(last)) return last;
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}; panel: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

suite('Refscope lifecycle panel in a real VS Code', function () {
  this.timeout(120000);
  let doc: vscode.TextDocument;

  suiteSetup(async () => {
    const folder = vscode.workspace.workspaceFolders?.[0];
    assert.ok(folder, 'the fixture workspace folder is open');
    doc = await vscode.workspace.openTextDocument(vscode.Uri.joinPath(folder.uri, FIXTURE));
    await vscode.window.showTextDocument(doc, vscode.ViewColumn.One);
    const ext = vscode.extensions.getExtension('refscope.refscope');
    assert.ok(ext);
    await waitFor('the extension to activate', () => ext.isActive, 60000);
  });

  suiteTeardown(async () => {
    await vscode.commands.executeCommand(HOOK, { action: 'closeAll' });
  });

  test('openScenario (a diagnostic\'s "Play race scenario") opens the panel and the webview plays the race', async () => {
    const ok = await vscode.commands.executeCommand('refscope.openScenario', { scenario: SEED });
    assert.strictEqual(ok, true);
    const p = await panel(`scenario:${SEED}`, 'the scenario run to finish in the webview', (x) => x.ready && x.statuses.some((s) => s.status === 'done'));
    assert.strictEqual(p.title, `Scenario: ${SEED}`);
    assert.deepStrictEqual(p.rejected, [], 'every message from the webview was valid');
    const done = p.statuses.find((s) => s.status === 'done')!;
    // The broken variant is the default one to play; the explorer ran in the webview's worker.
    assert.strictEqual(done.verdict, 'violation');
    assert.ok(done.kinds?.includes('increment-from-zero'), JSON.stringify(done));
    assert.ok((done.states ?? 0) > 10);
    await screenshot('panel-seed-race');
  });

  test('a reveal message from the panel moves the editor selection to the scenario line', async () => {
    await vscode.commands.executeCommand(HOOK, { action: 'receive', key: `scenario:${SEED}`, message: { type: 'reveal', file: `scenarios/${SEED}/broken.rsim`, line: 53, column: 3, focus: true } });
    const ed = await waitFor('the scenario document in an editor', () => vscode.window.visibleTextEditors.find((e) => e.document.uri.scheme === 'refscope-scenario'));
    assert.strictEqual(ed.document.uri.path, `/${SEED}/broken.rsim`);
    assert.strictEqual(ed.selection.active.line, 52);
    assert.ok(ed.document.lineAt(52).text.includes('kref_get(&obj->refcount)'), ed.document.lineAt(52).text);
    // Invalid messages are rejected, not acted on.
    await vscode.commands.executeCommand(HOOK, { action: 'receive', key: `scenario:${SEED}`, message: { type: 'reveal', file: 'x.c', line: '<img src=x>', column: 1, focus: true } });
    const p = (await hook()).panels.find((x) => x.key === `scenario:${SEED}`)!;
    assert.strictEqual(p.rejected.length, 1);
  });

  test('a reveal request for a path outside the workspace is refused (and logged), the editor untouched', async () => {
    const before = (await hook()).lastReveal;
    const folder = vscode.workspace.workspaceFolders![0]!.uri;
    // In the web host the folder is mounted at the root of its scheme (`vscode-test-web://mount/`): `..` cannot leave it there.
    const rooted = folder.path === '/' || folder.path === '';
    const outside = [
      'file:///etc/passwd',
      'untitled:/nowhere.c',
      ...(rooted ? [] : ['../../../../etc/passwd', vscode.Uri.joinPath(folder, '..', 'outside.c').toString()]),
    ];
    for (const file of outside) {
      await vscode.commands.executeCommand(HOOK, { action: 'receive', key: `scenario:${SEED}`, message: { type: 'reveal', file, line: 1, column: 1, focus: true } });
    }
    const st = (await hook()) as HookState & { refusedReveals: string[] };
    assert.strictEqual(st.refusedReveals.length, outside.length, JSON.stringify(st.refusedReveals));
    assert.ok(st.refusedReveals.every((u) => !u.startsWith(`${folder.toString()}/`)), JSON.stringify(st.refusedReveals));
    assert.deepStrictEqual(st.lastReveal, before, 'nothing was revealed');
    assert.ok(!vscode.window.visibleTextEditors.some((e) => /passwd|outside\.c|nowhere\.c/.test(e.document.uri.path)));
    // A file inside the workspace is still revealed.
    await vscode.commands.executeCommand(HOOK, { action: 'receive', key: `scenario:${SEED}`, message: { type: 'reveal', file: 'kobj_cache.c', line: 2, column: 1, focus: false } });
    const after = (await hook()).lastReveal;
    assert.strictEqual(after?.uri, vscode.Uri.joinPath(folder, 'kobj_cache.c').toString());
  });

  test('simulateLifecycle (the CodeLens) opens the object view; roles run in the webview; a reveal moves the selection', async () => {
    const ok = await vscode.commands.executeCommand('refscope.simulateLifecycle', { typeName: 'struct panel_widget', uri: doc.uri.toString(), line: 13 });
    assert.strictEqual(ok, true);
    const key = 'lifecycle:struct panel_widget';
    const p = await panel(key, 'the lifecycle panel to be ready', (x) => x.ready);
    assert.strictEqual(p.title, 'Lifecycle: struct panel_widget');
    assert.deepStrictEqual([...p.roles].sort(), ['lookup:panel_widget_find', 'put:panel_widget_put']);
    // Run the pair as the webview's Run button does: the host builds the model, the webview explores it.
    await vscode.commands.executeCommand(HOOK, { action: 'receive', key, message: { type: 'runRoles', runId: 4242, roles: p.roles } });
    const after = await panel(key, 'the role pair to be explored', (x) => x.statuses.some((s) => s.runId === 4242 && s.status === 'done'));
    const done = after.statuses.find((s) => s.runId === 4242 && s.status === 'done')!;
    assert.strictEqual(done.verdict, 'violation');
    assert.deepStrictEqual(done.kinds, ['increment-from-zero']);
    await screenshot('panel-lifecycle');

    // Reveal the kref_get line (as clicking that step's location does): the fixture's editor selects it.
    const getLine = lineOf(doc, 'kref_get(&w->ref);');
    await vscode.commands.executeCommand(HOOK, { action: 'receive', key, message: { type: 'reveal', file: doc.uri.toString(), line: getLine + 1, column: 4, focus: true } });
    const ed = await waitFor('the fixture editor to select the kref_get line', () => {
      const e = vscode.window.activeTextEditor;
      return e && e.document.uri.toString() === doc.uri.toString() && e.selection.active.line === getLine && e;
    });
    assert.strictEqual(ed.selection.active.character, 3);
    const rev = (await hook()).lastReveal;
    assert.deepStrictEqual(rev, { uri: doc.uri.toString(), line: getLine + 1, focus: true });
  });

  test('simulateLifecycle without an argument uses the struct type of the identifier under the cursor', async () => {
    await vscode.commands.executeCommand(HOOK, { action: 'closeAll' });
    const ed = await vscode.window.showTextDocument(doc, vscode.ViewColumn.One);
    // `found` is a local `struct panel_widget *` of panel_widget_find.
    const line = lineOf(doc, 'found = w;');
    const col = doc.lineAt(line).text.indexOf('found') + 2;
    ed.selection = new vscode.Selection(line, col, line, col);
    const ok = await vscode.commands.executeCommand('refscope.simulateLifecycle');
    assert.strictEqual(ok, true);
    await panel('lifecycle:struct panel_widget', 'the lifecycle panel of the type at the cursor', (x) => x.ready);
  });
});
