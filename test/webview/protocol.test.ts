/**
 * The panel's pure pieces: the message validators of src/shared/protocol.ts on
 * real simulator data (every library scenario's model and traces, a lifecycle
 * model from a C fixture) and on malformed messages, and "the struct type of the
 * identifier under the cursor" (src/vscode/panelTarget.ts) on a real index.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildWorkspaceIndex, extractFileFacts } from '../../src/core/index/index';
import { library } from '../../src/core/scenarios/library';
import { explore } from '../../src/core/sim/explore';
import { nodeParser } from '../../src/node/assets';
import { PROTOCOL_VERSION, parsePanelState, parseToHost, parseToWebview, parseToWorker } from '../../src/shared/protocol';
import { libraryItems, scenarioExplore, scenarioView } from '../../src/vscode/panelData';
import { contentSecurityPolicy, panelHtml } from '../../src/vscode/panelHtml';
import { structTypeAt } from '../../src/vscode/panelTarget';
import { injectionRace, ROOT } from './harness';

test('every library scenario: its explore message, result and panel state pass the validators', async () => {
  const parser = await nodeParser();
  let n = 0;
  for (const e of library()) {
    for (const v of e.variants) {
      const msg = scenarioExplore(parser, v, 1);
      assert.equal(parseToWebview(msg).ok, true, `${v.ref}: ${JSON.stringify(parseToWebview(msg))}`);
      assert.equal(parseToWorker({ type: 'explore', runId: 1, model: msg.model, maxStates: 1000 }).ok, true);
      const r = explore(msg.model);
      const result = { runId: 1, label: v.ref, roles: msg.roles, verdict: r.verdict, violations: r.violations, states: r.states, transitions: r.transitions, stoppedBecause: r.stoppedBecause, ms: 1 };
      assert.equal(parseToWebview({ type: 'result', result }).ok, true, v.ref);
      const state = { version: PROTOCOL_VERSION, subject: { kind: 'scenario', scenario: scenarioView(v) }, library: libraryItems(), selectedRoles: [], libraryChoice: v.ref, result, violation: 0, step: 0 };
      assert.equal(parsePanelState(state).ok, true, v.ref);
      n++;
    }
  }
  assert.ok(n >= 35, `${n} variants`);
  // A lifecycle model extracted from C (null lookup keys, whole source lines as op texts).
  const evil = await injectionRace();
  assert.equal(parseToWebview(evil.explore).ok, true);
  assert.equal(parseToWebview(evil.init).ok, true);
});

test('malformed messages are rejected with the path of the first problem', async () => {
  const bad = (m: unknown): string => {
    const p = parseToHost(m);
    assert.equal(p.ok, false, JSON.stringify(m));
    return p.ok ? '' : p.error;
  };
  assert.equal(parseToHost({ type: 'reveal', file: 'a.c', line: 3, column: 1, focus: true }).ok, true);
  assert.match(bad({ type: 'reveal', file: 'a.c', line: '3', column: 1, focus: true }), /\.line: expected a line number/);
  assert.match(bad({ type: 'reveal', file: 'a.c', line: 3, column: 1, focus: true, html: '<img>' }), /\.html: unexpected property/);
  assert.match(bad({ type: 'eval', code: '1' }), /\.type: expected one of/);
  assert.match(bad({ type: 'runRoles', runId: 1, roles: ['a', 'b', 'c', 'd', 'e'] }), /at most 4 items/);
  assert.match(bad('<script>'), /expected an object/);
  assert.match(bad(null), /expected an object/);
  // A model with an unknown op never reaches the explorer.
  const parser = await nodeParser();
  const msg = scenarioExplore(parser, library()[0]!.variants[0]!, 1);
  const broken = structuredClone(msg);
  (broken.model.programs[0]!.instrs[0] as unknown as { op: string }).op = 'system';
  const p = parseToWebview(broken);
  assert.equal(p.ok, false);
  assert.match(p.ok ? '' : p.error, /programs\[0\]\.instrs\[0\]\.op: unknown op/);
  const parsed = parseToWebview({ ...structuredClone(msg), maxStates: 1.5 });
  assert.equal(parsed.ok, false);
});

test('the panel HTML: strict CSP with a nonce, no inline script or handler, only bundle URIs', () => {
  const html = panelHtml({ cspSource: 'https://x.vscode-cdn.net', nonce: 'abcDEF123', scriptUri: 'https://x.vscode-cdn.net/dist/webview.js', styleUri: 'https://x.vscode-cdn.net/dist/webview.css' });
  assert.equal(contentSecurityPolicy({ cspSource: 'S', nonce: 'N' }), "default-src 'none'; style-src S; font-src S; img-src S data:; script-src 'nonce-N'; worker-src blob:");
  assert.match(html, /http-equiv="Content-Security-Policy" content="default-src &#39;none&#39;|content="default-src 'none'/);
  const scripts = [...html.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)];
  assert.equal(scripts.length, 1);
  assert.match(scripts[0]![1]!, /nonce="abcDEF123" src="https:\/\/x\.vscode-cdn\.net\/dist\/webview\.js"/);
  assert.equal(scripts[0]![2], '', 'no inline script body');
  assert.doesNotMatch(html, /\son[a-z]+=/i, 'no inline handlers');
  assert.match(html, /class="no-codicons"/, 'labels only when the codicons are not bundled');
});

test('the struct type of the identifier under the cursor: variable, parameter, field access, struct name', async () => {
  const parser = await nodeParser();
  const file = 'file:///ws/panel_widget.c';
  const text = readFileSync(join(ROOT, 'test/integration/workspace/panel_widget.c'), 'utf8')
    + '\nstruct holder {\n\tstruct panel_widget *cur;\n\tstruct { struct panel_widget *w; } slot;\n};\n\nint holder_id(struct holder *h)\n{\n\treturn h->cur->id + h->slot.w->id;\n}\n';
  const index = buildWorkspaceIndex([extractFileFacts(parser, text, file)]);
  const lines = text.split('\n');
  const at = (needle: string, word: string): ReturnType<typeof structTypeAt> => {
    const l = lines.findIndex((x) => x.includes(needle));
    assert.ok(l >= 0, needle);
    const c = lines[l]!.indexOf(word, lines[l]!.indexOf(needle)) + 1;
    return structTypeAt(index, file, text, l, c);
  };
  assert.deepEqual(at('found = w;', 'found'), { type: 'struct panel_widget', via: 'variable', word: 'found' });
  assert.deepEqual(at('kref_put(&w->ref, panel_widget_release);', 'w->'), { type: 'struct panel_widget', via: 'parameter', word: 'w' });
  assert.deepEqual(at('list_del(&w->node);', 'node'), { type: 'struct list_head', via: 'field', word: 'node' });
  assert.deepEqual(at('return h->cur->id', 'cur'), { type: 'struct panel_widget', via: 'field', word: 'cur' });
  assert.deepEqual(at('struct panel_widget {', 'panel_widget'), { type: 'struct panel_widget', via: 'struct-name', word: 'panel_widget' });
  assert.deepEqual(at('int holder_id(struct holder *h)', 'h)'), { type: 'struct holder', via: 'parameter', word: 'h' });
  assert.equal(at('w->id = id;', 'id;'), null, 'an int parameter has no struct type');
});
