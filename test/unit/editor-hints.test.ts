/**
 * The editor's plain data (src/core/hints.ts), its incremental analysis
 * (src/core/incremental.ts) and the SARIF builder the editor exports with
 * (src/core/report/sarif.ts), on the integration fixture kobj_cache.c and the
 * real WASM grammar.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { analyzeFile } from '../../src/core/analyze';
import { callAt, computeHints, functionAtLine, releaseFor, wrapperHint, type FileHints } from '../../src/core/hints';
import { IncrementalAnalyzer } from '../../src/core/incremental';
import { parseKernelC } from '../../src/core/parse/source';
import { buildSarif } from '../../src/core/report/sarif';
import { nodeParser } from '../../src/node/assets';
import { sarifValidator } from './cli-support';

const FIXTURE = join(__dirname, '..', 'integration', 'workspace', 'kobj_cache.c');
const text = readFileSync(FIXTURE, 'utf8');
const lineOf = (needle: string, from = 0): number => text.split('\n').findIndex((l, i) => i >= from && l.includes(needle)) + 1;

async function hintsOf(src: string): Promise<FileHints> {
  const parsed = parseKernelC(await nodeParser(), src);
  try {
    return computeHints(parsed, 'kobj_cache.c');
  } finally {
    parsed.dispose();
  }
}

test('lock scopes, held sets at exits and unlock labels per function', async () => {
  const h = await hintsOf(text);
  const publish = h.functions.find((f) => f.name === 'kobj_publish')!;
  const lock = lineOf('mutex_lock(&c->lock);', lineOf('int kobj_publish'));
  assert.deepStrictEqual(publish.lockScopes, [{ key: 'c.lock', label: 'c->lock', kind: 'mutex', ranges: [{ start: lock, end: lineOf('out_unlock:') + 1 }] }]);
  assert.deepStrictEqual(publish.exits.map((e) => [e.kind, e.at.start.line, e.held.map((x) => x.label), e.target]), [
    ['return', lineOf('return -EINVAL;'), ['c->lock'], undefined],
    ['goto', lineOf('goto out_unlock;'), ['c->lock'], 'out_unlock'],
  ]);
  assert.deepStrictEqual(publish.unlockLabels, [{ label: 'out_unlock', line: lineOf('out_unlock:'), releases: ['c.lock'], returns: 'ret' }]);
  assert.equal(publish.returns, 'value');
  const lookup = h.functions.find((f) => f.name === 'kobj_lookup')!;
  assert.equal(lookup.returns, 'pointer');
  // held until the unlock inside the loop; not at `return obj;` after it
  assert.deepStrictEqual(lookup.exits, []);
  assert.equal(h.functions.find((f) => f.name === 'kobj_drop')!.returns, 'void');
});

test('refcount hints: get, get-unless-zero, put that may free, transfer into a list', async () => {
  const h = await hintsOf(text);
  const all = h.functions.flatMap((f) => f.refOps.map((r) => [r.at.start.line, r.label, r.objectType]));
  assert.deepStrictEqual(all, [
    [lineOf('kref_get_unless_zero(&obj'), '+1 obj if ≠0', 'struct kobj'],
    [lineOf('kref_get(&obj->ref);'), '+1 obj', 'struct kobj'],
    [lineOf('list_add(&obj->node'), 'ref → c->objects', 'struct kobj'],
    [lineOf('kref_put(&obj->ref'), '−1 obj · may free', 'struct kobj'],
  ]);
  assert.deepStrictEqual(h.functions.filter((f) => f.objectTypes.length).map((f) => [f.name, f.objectTypes]),
    [['kobj_lookup', ['struct kobj']], ['kobj_publish', ['struct kobj']], ['kobj_drop', ['struct kobj']]]);
  // the held set before each call, for hovers
  const fn = functionAtLine(h, lineOf('kref_put(&obj->ref'))!;
  const put = callAt(fn, text.indexOf('kref_put(&obj->ref') + 2)!;
  assert.equal(put.callee, 'kref_put');
  assert.deepStrictEqual(put.held.map((x) => x.label), ['c->lock']);
  assert.deepStrictEqual(put.argTypes, ['struct kobj', null]);
  const unlock = callAt(fn, text.indexOf('mutex_unlock(&c->lock);\n}', text.indexOf('kref_put(&obj->ref')) + 2)!;
  assert.equal(unlock.effect, 'releases the mutex');
});

test('learned-wrapper hints and lock release pairs', () => {
  assert.deepStrictEqual(wrapperHint({
    name: 'foo_put', params: [{ index: 0, name: 'f', effect: 'put', via: 'kref_put' }], release: 'foo_release',
  }, ['&dev->foo']), { label: '−1 dev · may free', description: 'foo_put() drops a reference on `dev` (through kref_put; the last put calls foo_release())' });
  assert.equal(wrapperHint({ name: 'foo_get', params: [{ index: 0, name: 'f', effect: 'get', via: 'kref_get' }], returnsRef: 'get' }, ['obj'])?.label, '+1 obj, returns +1');
  assert.equal(wrapperHint({ name: 'noop', params: [] }, []), undefined);
  assert.equal(releaseFor('mutex_lock'), 'mutex_unlock');
  assert.equal(releaseFor('mutex_lock_nested'), 'mutex_unlock');
  assert.equal(releaseFor('spin_lock_irqsave'), 'spin_unlock_irqrestore');
  assert.equal(releaseFor('spin_lock_bh'), 'spin_unlock_bh');
  assert.equal(releaseFor('down_write'), 'up_write');
  assert.equal(releaseFor('rcu_read_lock'), 'rcu_read_unlock');
  assert.equal(releaseFor('mutex_unlock'), undefined);
});

function sameAsFresh(parser: Awaited<ReturnType<typeof nodeParser>>, src: string, got: { result: { findings: unknown }; hints: unknown }): void {
  const fresh = new IncrementalAnalyzer(parser, 'kobj_cache.c');
  try {
    const f = fresh.update(src);
    assert.deepStrictEqual(got.result.findings, f.result.findings);
    assert.deepStrictEqual(got.hints, f.hints);
    // and the findings are exactly analyzeFile's
    assert.deepStrictEqual(f.result.findings, analyzeFile(parser, src, 'kobj_cache.c').findings);
  } finally {
    fresh.dispose();
  }
}

test('incremental: an edit inside a function re-analyses that function only, with the same results as from scratch', async () => {
  const parser = await nodeParser();
  const a = new IncrementalAnalyzer(parser, 'kobj_cache.c');
  try {
    const first = a.update(text);
    assert.equal(first.mode, 'full');
    assert.equal(first.result.findings.length, 2);
    assert.equal(a.update(text).mode, 'unchanged');
    // Fix the lock leak in kobj_publish() by editing one line (adds a line: later functions move).
    const fixed = text.replace('\t\treturn -EINVAL;', '\t{\n\t\tmutex_unlock(&c->lock);\n\t\treturn -EINVAL;\n\t}');
    const r = a.update(fixed);
    assert.equal(r.mode, 'incremental');
    assert.equal(r.functionsAnalysed, 1);
    assert.deepStrictEqual(r.result.findings.map((f) => f.rule), ['unchecked-get-unless-zero']);
    sameAsFresh(parser, fixed, r);
    // kobj_drop() (after the edit) moved by 3 lines: its hints moved with it.
    const drop = r.hints.functions.find((f) => f.name === 'kobj_drop')!;
    assert.equal(drop.refOps[0]!.at.start.line, lineOf('kref_put(&obj->ref') + 3);
    // Break it again in another function: kobj_lookup() (before the first edit).
    const broken = fixed.replace('\tmutex_unlock(&c->lock);\n\treturn NULL;', '\treturn NULL;');
    const r2 = a.update(broken);
    assert.equal(r2.mode, 'incremental');
    sameAsFresh(parser, broken, r2);
    assert.ok(r2.result.findings.some((f) => f.rule === 'lock-leak' && f.function === 'kobj_lookup'));
  } finally {
    a.dispose();
  }
});

test('incremental: edits outside function bodies analyse the whole file; a changed summary re-analyses the callers', async () => {
  const parser = await nodeParser();
  const a = new IncrementalAnalyzer(parser, 'kobj_cache.c');
  try {
    const withCaller = `${text}\nvoid kobj_drop_locked(struct kobj_cache *c, struct kobj *obj)\n{\n\tkobj_drop(c, obj);\n\tmutex_unlock(&c->lock);\n}\n`;
    a.update(withCaller);
    const outside = withCaller.replace('\tint id;\n};', '\tint id;\n\tint flags;\n};');
    const r = a.update(outside);
    assert.equal(r.mode, 'full');
    sameAsFresh(parser, outside, r);
    // kobj_drop() now returns with the mutex held (a lock wrapper): its summary changes, so its caller is analysed again.
    const wrapper = outside.replace('\tkref_put(&obj->ref, kobj_release);\n\tmutex_unlock(&c->lock);\n}', '\tkref_put(&obj->ref, kobj_release);\n}');
    const r2 = a.update(wrapper);
    assert.equal(r2.mode, 'incremental');
    assert.equal(r2.functionsAnalysed, 2);
    sameAsFresh(parser, wrapper, r2);
  } finally {
    a.dispose();
  }
});

test('the SARIF the editor exports (workspace-relative URIs) is valid SARIF 2.1.0', async () => {
  const parser = await nodeParser();
  const root = 'vscode-test-web://mount/';
  const file = `${root}kobj_cache.c`;
  const r = analyzeFile(parser, text, file);
  assert.equal(r.findings.length, 2);
  const log = buildSarif(r.findings.map((f) => ({
    rule: f.rule, severity: f.severity, file, line: f.span.start.line, column: f.span.start.column, endLine: f.span.end.line,
    endColumn: f.span.end.column, function: f.function, message: f.message, scenario: f.scenario, trace: f.trace,
  })), { toolVersion: '0.1.0', rootUri: root, artifact: (x) => (x.startsWith(root) ? { uri: x.slice(root.length), uriBaseId: '%SRCROOT%' } : { uri: x }) });
  assert.deepStrictEqual(sarifValidator()(log), []);
  const results = (log.runs as Array<{ results: Array<{ locations: Array<{ physicalLocation: { artifactLocation: { uri: string } } }> }> }>)[0]!.results;
  assert.deepStrictEqual(results.map((x) => x.locations[0]!.physicalLocation.artifactLocation.uri), ['kobj_cache.c', 'kobj_cache.c']);
});
