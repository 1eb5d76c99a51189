/// <reference types="mocha" />
/*
 * Review Changes in the web extension host: there is no local Git repository to
 * read, so the command says so (and what to do instead) and the view stays empty.
 */
import assert from 'assert';
import * as vscode from 'vscode';

interface Api {
  review(): { summary: unknown; tree: unknown[] } | undefined;
}

suite('Review Changes (web host)', () => {
  test('explains that it needs a local Git repository', async () => {
    const r = (await vscode.commands.executeCommand('refscope.reviewChanges', { base: 'HEAD' })) as { error?: string };
    assert.ok(r && typeof r.error === 'string', `expected an explanation, got ${JSON.stringify(r)}`);
    assert.match(r.error!, /needs a local Git repository/);
    assert.match(r.error!, /refscope check --since/);
    const api = vscode.extensions.getExtension<Api>('refscope.refscope')!.exports;
    const snap = api.review();
    assert.ok(snap, 'the review feature started');
    assert.equal(snap.summary, null);
    assert.deepEqual(snap.tree, []);
  });
});
