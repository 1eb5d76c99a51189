/// <reference types="mocha" />
/*
 * Review Changes in the Node extension host, through the real built-in Git
 * extension: a git repository made here (a base on `main`, a topic branch whose
 * commit introduces a lock leak and moves an old one), reviewed against `main`.
 * The "Refscope Review" view's contents (the real TreeDataProvider's items, read
 * through the extension's API), the editor decorations of new findings, opening
 * a fixed finding at the base, the race scenario of a finding, and the refreshes
 * on save, on commit and on checkout.
 */
import assert from 'assert';
import { execFileSync } from 'child_process';
import { mkdtempSync, realpathSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import * as vscode from 'vscode';
import { GET_LEAK, GET_OK, HEADER, SET as SET_OLD_LEAK, TWICE_BUGGY } from '../../fixtures/review/snippets';
import { lineOf, screenshot, waitFor } from './util';

interface SnapNode {
  kind: string;
  label: string;
  description: string;
  children: SnapNode[];
  command?: string;
  args?: unknown;
  scenario?: string;
}
interface Snapshot {
  summary: { base: string; baseCommit: string; files: number; introduced: number; fixed: number; unchanged: number; revision: number } | null;
  message: string;
  tree: SnapNode[];
  decorations: Array<{ file: string; line: number; kind: string }>;
}
interface Api {
  review(): Snapshot | undefined;
}

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'user.name=Refscope Test', '-c', 'user.email=test@refscope.invalid', '-c', 'commit.gpgsign=false', ...args], { cwd, encoding: 'utf8' });
}

function api(): Api {
  return vscode.extensions.getExtension<Api>('refscope.refscope')!.exports;
}

function snapshot(): Snapshot {
  const s = api().review();
  assert.ok(s, 'the review feature started');
  return s;
}

function shape(s: Snapshot): string[] {
  const out: string[] = [];
  for (const f of s.tree) {
    out.push(`${f.label} [${f.description}]`);
    for (const fn of f.children) {
      out.push(`  ${fn.label} [${fn.description}]`);
      for (const x of fn.children) out.push(`    ${x.label.split(':')[0]} ${x.description.split(' ')[0]}`);
    }
  }
  return out;
}

async function nextRevision(after: number, what: string): Promise<Snapshot> {
  return waitFor(what, () => {
    const s = snapshot();
    return s.summary && s.summary.revision > after ? s : undefined;
  }, 40000);
}

suite('Review Changes (Node host, built-in Git)', function () {
  this.timeout(180000);
  let dir: string;
  let drv: vscode.Uri;

  suiteSetup(async () => {
    // The repository lives outside the workspace folder: the Git extension opens such
    // repositories only when told to (its "parent folder" policy).
    await vscode.workspace.getConfiguration('git').update('openRepositoryInParentFolders', 'always', vscode.ConfigurationTarget.Global);
    dir = realpathSync(mkdtempSync(join(tmpdir(), 'refscope-review-')));
    git(dir, 'init', '-q', '-b', 'main');
    writeFileSync(join(dir, 'drv.c'), HEADER + SET_OLD_LEAK + GET_OK + TWICE_BUGGY);
    git(dir, 'add', '-A');
    git(dir, 'commit', '-q', '-m', 'base');
    git(dir, 'checkout', '-q', '-b', 'topic');
    writeFileSync(join(dir, 'drv.c'), HEADER + GET_LEAK + TWICE_BUGGY + SET_OLD_LEAK);
    git(dir, 'commit', '-q', '-am', 'drv: foo_get limit, move foo_set');
    drv = vscode.Uri.file(join(dir, 'drv.c'));
  });

  suiteTeardown(async () => {
    await vscode.commands.executeCommand('refscope.review.clear');
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await vscode.workspace.getConfiguration('git').update('openRepositoryInParentFolders', undefined, vscode.ConfigurationTarget.Global);
    rmSync(dir, { recursive: true, force: true });
  });

  test('the topic branch against main: the new leak is new, the moved old leak is neither', async () => {
    const doc = await vscode.workspace.openTextDocument(drv);
    await vscode.window.showTextDocument(doc);
    const r = (await vscode.commands.executeCommand('refscope.reviewChanges', { repository: dir, base: 'main' })) as Snapshot['summary'] & { error?: string };
    assert.ok(r && !r.error, `review failed: ${JSON.stringify(r)}`);
    assert.equal(r.base, 'main');
    assert.equal(r.baseCommit, git(dir, 'rev-parse', 'main').trim());
    assert.deepEqual([r.files, r.introduced, r.fixed, r.unchanged], [1, 1, 0, 2], 'one changed file; the foo_get leak new; the foo_set leak and the foo_twice unlock unchanged');
    const s = snapshot();
    assert.deepEqual(shape(s), [
      'drv.c [1 new]',
      '  foo_get() [1 new]',
      '    lock-leak new',
    ]);
    assert.match(s.message, /1 new finding, 0 fixed, 2 unchanged since main/);
    // The finding lists its race scenario and its trace; the decoration marks its line as changed by this change.
    const finding = s.tree[0]!.children[0]!.children[0]!;
    assert.equal(finding.kind, 'finding');
    assert.match(finding.description, /changed line/);
    const scenario = finding.children.find((c) => c.kind === 'scenario');
    assert.equal(scenario?.scenario, 'error-path-lock-leak');
    assert.equal(scenario?.command, 'refscope.openScenario');
    assert.ok(finding.children.filter((c) => c.kind === 'trace').length >= 2, `trace steps: ${JSON.stringify(finding.children)}`);
    const leakLine = lineOf(doc, 'return -E2BIG;') + 1;
    await waitFor('the review decoration on the open editor', () => snapshot().decorations.find((d) => d.file === drv.toString()));
    assert.deepEqual(snapshot().decorations, [{ file: drv.toString(), line: leakLine, kind: 'changed-line' }]);
    // Opening the finding selects it in the working-tree file.
    assert.equal(finding.command, 'refscope.review.open');
    assert.equal(await vscode.commands.executeCommand('refscope.review.open', finding.args), true);
    const ed = vscode.window.activeTextEditor!;
    assert.equal(ed.document.uri.toString(), drv.toString());
    assert.equal(ed.selection.start.line + 1, leakLine);
    // The race scenario opens in the lifecycle panel.
    assert.equal(await vscode.commands.executeCommand(scenario!.command!, { scenario: scenario!.scenario }), true);
    await vscode.commands.executeCommand('workbench.view.scm');
    await vscode.commands.executeCommand('refscope.review.focus');
    await vscode.window.showTextDocument(doc, { viewColumn: vscode.ViewColumn.One });
    await screenshot('review-view');
  });

  test('a saved edit that fixes the double unlock: the view refreshes with it as fixed, opened at the base', async () => {
    const before = snapshot().summary!.revision;
    const doc = await vscode.workspace.openTextDocument(drv);
    const editor = await vscode.window.showTextDocument(doc);
    const first = lineOf(doc, 'mutex_unlock(&f->lock);\n'.trim());
    // The second of foo_twice's two unlocks.
    let second = -1;
    for (let i = lineOf(doc, 'void foo_twice'); i < doc.lineCount; i++) if (doc.lineAt(i).text.trim() === 'mutex_unlock(&f->lock);' && doc.lineAt(i + 1).text.trim() === 'mutex_unlock(&f->lock);') second = i + 1;
    assert.ok(second > first, 'the fixture has the double unlock');
    await editor.edit((e) => e.delete(doc.lineAt(second).rangeIncludingLineBreak));
    assert.ok(await doc.save(), 'saved');
    const s = await nextRevision(before, 'the review to refresh on save');
    assert.deepEqual(shape(s), [
      'drv.c [1 new, 1 fixed]',
      '  foo_get() [1 new]',
      '    lock-leak new',
      '  foo_twice() [1 fixed]',
      '    unlock-unheld fixed',
    ]);
    const fixed = s.tree[0]!.children[1]!.children[0]!;
    assert.equal(await vscode.commands.executeCommand('refscope.review.open', fixed.args), true);
    const ed = vscode.window.activeTextEditor!;
    assert.equal(ed.document.uri.scheme, 'git', `the base version opens (got ${ed.document.uri.toString()})`);
    assert.match(ed.document.lineAt(ed.selection.start.line).text, /mutex_unlock/);
    assert.equal((ed.document.getText().match(/mutex_unlock\(&f->lock\);\n\tmutex_unlock/g) ?? []).length, 1, 'the base still has the double unlock');
  });

  test('refreshes on commit and on checkout', async () => {
    let before = snapshot().summary!.revision;
    git(dir, 'commit', '-q', '-am', 'drv: foo_twice unlocks once');
    let s = await nextRevision(before, 'the review to refresh after a commit');
    assert.deepEqual([s.summary!.introduced, s.summary!.fixed], [1, 1], 'against main the commit changes nothing');
    before = s.summary!.revision;
    git(dir, 'checkout', '-q', 'main');
    s = await nextRevision(before, 'the review to refresh after a checkout');
    assert.deepEqual([s.summary!.files, s.summary!.introduced, s.summary!.fixed], [0, 0, 0], 'on main nothing differs from main');
    assert.deepEqual(s.tree, []);
    await waitFor('the decorations to go', () => snapshot().decorations.length === 0);
  });

  test('a revision that does not exist: an error, the previous review kept', async () => {
    const r = (await vscode.commands.executeCommand('refscope.reviewChanges', { repository: dir, base: 'no-such-branch' })) as { error?: string };
    assert.match(r.error ?? '', /'no-such-branch' is not a revision/);
    assert.equal(snapshot().summary?.base, 'main');
  });
});
