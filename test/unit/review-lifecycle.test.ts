/**
 * Lifecycle impact of a change under review, through the built CLI (real git,
 * real parser, the real explorer): a fixture repository whose commits turn the
 * lookup of `struct widget` into its broken twin (kref_get instead of
 * kref_get_unless_zero), fix the seed's GEM offset hash by making it hold a
 * reference, only reorder the RCU lookup's functions, and replace kfree_rcu by
 * kfree; and the same two first changes as an mbox series, reported per patch.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureBuilt, kernelTree, REPO, runCli, sarifValidator } from './cli-support';

const FIX = join(REPO, 'test', 'fixtures', 'lifecycle');

interface Change {
  roles: string[];
  status: string;
  base: { verdict: string; kinds: string[] };
  head: { verdict: string; kinds: string[] };
  violation?: { kind: string; message: string; trace: Array<{ thread: string; op: string; file: string; line: number }> };
}
interface Impact {
  type: string;
  status: string;
  summary: string;
  touched: string[];
  verdict: { base: string; head: string };
  changes: Change[];
}
interface ReviewJson {
  review: Array<{ patch?: number; lifecycle: Impact[] | null }>;
  findings: Array<{ status: string; rule: string; function: string }>;
}

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'user.name=Refscope Test', '-c', 'user.email=test@refscope.invalid', '-c', 'commit.gpgsign=false', ...args], { cwd, encoding: 'utf8' });
}

/** gadget_find moved below gadget_put, and a comment edited inside gadget_release: lifecycle functions touched, nothing else. */
function reorderedRcu(): string {
  const t = readFileSync(join(FIX, 'rcu-kfree-rcu.c'), 'utf8');
  const find = t.slice(t.indexOf('struct gadget *gadget_find(int id)'));
  const before = t.slice(0, t.indexOf('struct gadget *gadget_find(int id)'));
  const put = before.indexOf('void gadget_put(struct gadget *g)');
  assert.ok(put > 0 && find.length > 0, 'the fixture has gadget_put and gadget_find');
  return (before.slice(0, put) + find.trimEnd() + '\n\n' + before.slice(put)).replace('static void gadget_release(struct kref *ref)\n{', 'static void gadget_release(struct kref *ref)\n{\n\t/* the last reference is gone */');
}

function review(args: string[], cwd: string): { code: number; j: ReviewJson; stdout: string } {
  const r = runCli(['check', '--no-cache', '--format', 'json', ...args], cwd);
  assert.ok(r.code === 0 || r.code === 1, `exit ${r.code}: ${r.stderr}`);
  return { code: r.code, j: JSON.parse(r.stdout) as ReviewJson, stdout: r.stdout };
}

const brief = (i: Impact) => `${i.status} ${i.type} ${i.verdict.base}->${i.verdict.head}`;

describe('lifecycle impact of a change (check --range / --patch)', () => {
  let dir = '';
  let repo = '';
  before(() => {
    ensureBuilt();
    dir = mkdtempSync(join(tmpdir(), 'refscope-lcreview-'));
    repo = join(dir, 'repo');
    mkdirSync(repo);
    git(repo, 'init', '-q', '-b', 'main');
    copyFileSync(join(FIX, 'kref-mutex-safe.c'), join(repo, 'widget.c'));
    copyFileSync(join(FIX, 'gem-offset-noref.c'), join(repo, 'gem.c'));
    copyFileSync(join(FIX, 'rcu-kfree-rcu.c'), join(repo, 'rcu.c'));
    writeFileSync(join(repo, 'util.c'), 'int util_sum(int a, int b)\n{\n\treturn a + b;\n}\n');
    git(repo, 'add', '-A');
    git(repo, 'commit', '-q', '-m', 'base');
    copyFileSync(join(FIX, 'kref-mutex-broken.c'), join(repo, 'widget.c'));
    git(repo, 'commit', '-q', '-am', 'widget: plain kref_get in widget_find');
    copyFileSync(join(FIX, 'gem-offset-ownref.c'), join(repo, 'gem.c'));
    git(repo, 'commit', '-q', '-am', 'gem: the offset hash holds its own reference');
    writeFileSync(join(repo, 'rcu.c'), reorderedRcu());
    writeFileSync(join(repo, 'util.c'), 'int util_sum(int a, int b)\n{\n\treturn b + a;\n}\n');
    git(repo, 'commit', '-q', '-am', 'rcu: reorder; util: commute');
    writeFileSync(join(repo, 'rcu.c'), reorderedRcu().replace('kfree_rcu(g, rcu);', 'kfree(g);'));
    git(repo, 'commit', '-q', '-am', 'rcu: free at once');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('a lookup turned into its broken twin: "introduces a race in struct widget" with the explorer trace, exit 1', () => {
    const { code, j } = review(['--range', 'HEAD~4..HEAD~3'], repo);
    assert.equal(code, 1);
    const lc = j.review[0]!.lifecycle!;
    assert.deepEqual(lc.map(brief), ['introduces struct widget safe->violation']);
    const c = lc[0]!.changes[0]!;
    assert.deepEqual([c.roles, c.status, c.base.verdict, c.head.verdict, c.head.kinds], [['lookup:widget_find', 'put:widget_put'], 'introduces', 'safe', 'violation', ['increment-from-zero']]);
    assert.deepEqual(lc[0]!.touched, ['widget_find']);
    assert.ok(c.violation!.trace.length >= 3, 'the race, step by step');
    assert.ok(c.violation!.trace.some((s) => s.thread === 'put:widget_put' && /kref_put/.test(s.op)), 'the racing put is in the trace');
    assert.ok(c.violation!.trace.some((s) => s.file === 'widget.c' && /kref_get\(&w->ref\)/.test(s.op)), 'the plain get at the newer end');
    const t = runCli(['check', '--no-cache', '--range', 'HEAD~4..HEAD~3'], repo);
    assert.match(t.stdout, /^RACE NEW struct widget: introduces a race in struct widget \(lookup:widget_find \+ put:widget_put: safe -> violation \[increment-from-zero\]\); touched: widget_find$/m);
    assert.match(t.stdout, /lifecycle: 1 race introduced, 0 fixed/);
  });

  it('the seed\'s offset hash made to hold a reference: "fixes a race in struct gem_object", exit 0', () => {
    const { code, j } = review(['--range', 'HEAD~3..HEAD~2'], repo);
    assert.equal(code, 0);
    const lc = j.review[0]!.lifecycle!;
    assert.deepEqual(lc.map(brief), ['fixes struct gem_object violation->safe']);
    assert.ok(lc[0]!.changes.some((c) => c.status === 'fixes' && c.violation !== undefined && c.base.kinds.includes('increment-from-zero')));
    assert.match(runCli(['check', '--no-cache', '--range', 'HEAD~3..HEAD~2'], repo).stdout, /^RACE FIXED struct gem_object: fixes a race in struct gem_object/m);
  });

  it('lifecycle functions only moved and commented: checked, verdict unchanged; an unrelated change: nothing checked', () => {
    const { code, j } = review(['--range', 'HEAD~2..HEAD~1'], repo);
    assert.equal(code, 0);
    const lc = j.review[0]!.lifecycle!;
    assert.deepEqual(lc.map(brief), ['unchanged struct gadget safe->safe']);
    assert.deepEqual(lc[0]!.changes, []);
    const only = review(['--range', 'HEAD~2..HEAD~1', join(repo, 'util.c')], repo);
    assert.deepEqual(only.j.review[0]!.lifecycle, []);
  });

  it('kfree_rcu replaced by kfree: a new race in struct gadget; --no-index does not check lifecycles', () => {
    const { code, j } = review(['--range', 'HEAD~1..HEAD'], repo);
    assert.equal(code, 1);
    assert.deepEqual(j.review[0]!.lifecycle!.map(brief), ['introduces struct gadget safe->violation']);
    assert.ok(j.findings.some((f) => f.status === 'new' && f.rule === 'free-without-grace-period'), 'the rule finds it too');
    const off = review(['--no-index', '--range', 'HEAD~1..HEAD'], repo);
    assert.equal(off.j.review[0]!.lifecycle, null);
  });

  it('SARIF: the verdict changes are run properties, valid against the schema', () => {
    const r = runCli(['check', '--no-cache', '--format', 'sarif', '--range', 'HEAD~4..HEAD~2'], repo);
    assert.equal(r.code, 1, r.stderr);
    const log = JSON.parse(r.stdout) as { runs: Array<{ properties?: { lifecycleImpact?: Impact[] } }> };
    assert.deepEqual(sarifValidator()(log), []);
    assert.deepEqual(log.runs[0]!.properties!.lifecycleImpact!.map(brief).sort(), ['fixes struct gem_object violation->safe', 'introduces struct widget safe->violation']);
  });

  it('an mbox series: the first patch introduces the widget race, the second fixes the GEM one', () => {
    const mbox = join(dir, 'series.mbox');
    writeFileSync(mbox, git(repo, 'format-patch', '--stdout', 'HEAD~4..HEAD~2'));
    const tree = join(dir, 'tree');
    mkdirSync(tree);
    for (const f of ['widget.c', 'gem.c', 'rcu.c', 'util.c']) writeFileSync(join(tree, f), git(repo, 'show', `HEAD~4:${f}`));
    const { code, j } = review(['--patch', mbox, '--root', tree], dir);
    assert.equal(code, 1);
    assert.deepEqual(j.review.map((s) => [s.patch, (s.lifecycle ?? []).map(brief)]), [
      [1, ['introduces struct widget safe->violation']],
      [2, ['fixes struct gem_object violation->safe']],
    ]);
  });
});

describe('lifecycle impact on real Linux 6.12 code: the GEM mmap lookup turned into its 2010 twin', () => {
  let dir = '';
  let kernel = '';
  const rel = 'drivers/gpu/drm/drm_gem.c';
  before(() => {
    ensureBuilt();
    kernel = kernelTree();
    dir = mkdtempSync(join(tmpdir(), 'refscope-kgem-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('a plain diff replacing kref_get_unless_zero by drm_gem_object_get in drm_gem_mmap: RACE NEW struct drm_gem_object, nothing else new', () => {
    const orig = readFileSync(join(kernel, rel), 'utf8');
    const site = '\t\tif (!kref_get_unless_zero(&obj->refcount))\n\t\t\tobj = NULL;\n\t}\n\tdrm_vma_offset_unlock_lookup(dev->vma_offset_manager);\n';
    assert.equal(orig.split(site).length, 2, 'the lookup of drm_gem_mmap is in drm_gem.c once');
    const seeded = orig.replace(site, '\t\tdrm_gem_object_get(obj);\n\t}\n\tdrm_vma_offset_unlock_lookup(dev->vma_offset_manager);\n');
    mkdirSync(join(dir, 'a', 'drivers/gpu/drm'), { recursive: true });
    mkdirSync(join(dir, 'b', 'drivers/gpu/drm'), { recursive: true });
    writeFileSync(join(dir, 'a', rel), orig);
    writeFileSync(join(dir, 'b', rel), seeded);
    const r = execFileSync('bash', ['-c', `diff -u a/${rel} b/${rel} || test $? -eq 1`], { cwd: dir, encoding: 'utf8' });
    const patch = join(dir, 'seed.patch');
    writeFileSync(patch, r);
    const { code, j } = review(['--patch', patch, '--root', kernel], kernel);
    assert.equal(code, 1);
    assert.deepEqual(j.findings.filter((f) => f.status === 'new'), [], 'no rule finding is new');
    const lc = j.review[0]!.lifecycle!;
    // (Two of the type's 120 combinations violate at both ends already: the overall verdict stays 'violation'.)
    assert.deepEqual(lc.map((i) => `${i.status} ${i.type}`), ['introduces struct drm_gem_object']);
    assert.deepEqual(lc[0]!.changes.map((x) => `${x.status} ${x.roles.join(' + ')}: ${x.base.verdict} -> ${x.head.verdict} [${x.head.kinds.join(', ')}]`), [
      'introduces lookup:drm_gem_mmap + put:drm_gem_object_put: safe -> violation [increment-from-zero]',
    ]);
    const c = lc[0]!.changes[0]!;
    assert.ok(c.violation!.trace.some((s) => s.file === rel && /drm_gem_object_get\(obj\)/.test(s.op)), 'the plain get in the trace');
    const t = runCli(['check', '--no-cache', '--patch', patch, '--root', kernel], kernel);
    assert.match(t.stdout, /^patch 1\/1: diff of drivers\/gpu\/drm\/drm_gem\.c: 0 new/m);
  });
});
