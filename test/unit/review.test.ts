/**
 * Patch review through the built CLI (real git, real WASM parser):
 * `check --since/--range` on a fixture repository whose commits introduce a
 * lock leak, fix a double unlock and merely move a buggy function; `check
 * --patch` on an mbox series whose second patch fixes the first's bug; a real
 * Linux 6.12 file with a lock leak seeded as a patch.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureBuilt, runCli, sarifValidator } from './cli-support';

interface ReviewJson {
  version: number;
  review: Array<{ title: string; patch?: number; subject?: string; new: number; fixed: number; unchanged: number; files: { base: number; head: number } }>;
  findings: Array<{ status: 'new' | 'fixed'; patch?: number; rule: string; file: string; line: number; function: string; message: string; trace: { file: string; line: number; message: string }[] }>;
}

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'user.name=Test', '-c', 'user.email=test@example.org', '-c', 'commit.gpgsign=false', ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1', GIT_AUTHOR_DATE: '2024-01-01T00:00:00Z', GIT_COMMITTER_DATE: '2024-01-01T00:00:00Z' },
  });
}

function commit(dir: string, message: string, files: Record<string, string>): void {
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', message);
}

const HEADER = `#include <linux/mutex.h>

struct foo {
	struct mutex lock;
	int v;
};
`;

const FOO_SET = `
int foo_set(struct foo *f, int v)
{
	mutex_lock(&f->lock);
	f->v = v;
	mutex_unlock(&f->lock);
	return 0;
}
`;

const FOO_TWICE_BUGGY = `
void foo_twice(struct foo *f)
{
	mutex_lock(&f->lock);
	f->v = 1;
	mutex_unlock(&f->lock);
	mutex_unlock(&f->lock);
}
`;

const FOO_TWICE_FIXED = `
void foo_twice(struct foo *f)
{
	mutex_lock(&f->lock);
	f->v = 1;
	mutex_unlock(&f->lock);
}
`;

/** A lock leak that only moves between commits. */
const FOO_BUGGY = `
int foo_buggy(struct foo *f, int v)
{
	mutex_lock(&f->lock);
	if (v < 0)
		return -EINVAL;
	f->v = v;
	mutex_unlock(&f->lock);
	return 0;
}
`;

const FOO_GET_LEAK = `
int foo_get(struct foo *f)
{
	int v;

	mutex_lock(&f->lock);
	v = f->v;
	if (v > 10)
		return v;
	mutex_unlock(&f->lock);
	return v;
}
`;

const FOO_GET_FIXED = `
int foo_get(struct foo *f)
{
	int v;

	mutex_lock(&f->lock);
	v = f->v;
	if (v > 10) {
		mutex_unlock(&f->lock);
		return v;
	}
	mutex_unlock(&f->lock);
	return v;
}
`;

const OTHER = `${HEADER}
int other_read(struct foo *f)
{
	int v;

	mutex_lock(&f->lock);
	v = f->v;
	mutex_unlock(&f->lock);
	return v;
}
`;

function reviewJson(args: string[], cwd: string): { code: number; j: ReviewJson; stderr: string } {
  const r = runCli(['check', '--no-cache', '--format', 'json', ...args], cwd);
  assert.ok(r.code === 0 || r.code === 1, `exit ${r.code}: ${r.stderr}`);
  return { code: r.code, j: JSON.parse(r.stdout) as ReviewJson, stderr: r.stderr };
}

const summary = (j: ReviewJson) => j.findings.map((f) => `${f.status} ${f.rule} ${f.function}`).sort();

describe('check --since / --range on a fixture repository', () => {
  let dir = '';
  before(() => {
    ensureBuilt();
    dir = mkdtempSync(join(tmpdir(), 'refscope-review-'));
    git(dir, 'init', '-q', '-b', 'main');
    // 1 base: foo_twice unlocks twice, foo_buggy leaks the lock on its error path.
    commit(dir, 'base', { 'drv.c': HEADER + FOO_SET + FOO_TWICE_BUGGY + FOO_BUGGY, 'other.c': OTHER });
    // 2 introduces a lock leak (foo_get), shifting the code below it.
    commit(dir, 'drv: add foo_get', { 'drv.c': HEADER + '\n/* getters first */\n' + FOO_GET_LEAK + FOO_SET + FOO_TWICE_BUGGY + FOO_BUGGY });
    // 3 fixes the double unlock.
    commit(dir, 'drv: fix double unlock', { 'drv.c': HEADER + '\n/* getters first */\n' + FOO_GET_LEAK + FOO_SET + FOO_TWICE_FIXED + FOO_BUGGY });
    // 4 moves foo_buggy to the top of drv.c and moves foo_set to other.c: neither new nor fixed.
    commit(dir, 'drv: reorder', { 'drv.c': HEADER + FOO_BUGGY + '\n/* getters first */\n' + FOO_GET_LEAK + FOO_TWICE_FIXED, 'other.c': OTHER + FOO_SET });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('HEAD has the two lock leaks a plain check reports (the fixture is meaningful)', () => {
    const r = runCli(['check', '--no-cache', '--format', 'json', 'drv.c'], dir);
    const j = JSON.parse(r.stdout) as ReviewJson;
    assert.deepEqual(j.findings.map((f) => `${f.rule} ${f.function}`).sort(), ['lock-leak foo_buggy', 'lock-leak foo_get']);
  });

  it('a commit that introduces a lock leak: the leak is new, the shifted old bugs are not', () => {
    const { code, j } = reviewJson(['--range', 'HEAD~3..HEAD~2'], dir);
    assert.equal(code, 1);
    assert.deepEqual(summary(j), ['new lock-leak foo_get']);
    assert.equal(j.review[0]!.unchanged, 2, 'foo_buggy lock-leak and foo_twice unlock-unheld moved down, unchanged');
    const f = j.findings[0]!;
    assert.equal(f.file, 'drv.c');
    assert.match(f.message, /foo_get\(\) returns/);
  });

  it('a commit that fixes a double unlock: reported fixed, exit 0', () => {
    const { code, j } = reviewJson(['--range', 'HEAD~2..HEAD~1'], dir);
    assert.equal(code, 0);
    assert.deepEqual(summary(j), ['fixed unlock-unheld foo_twice']);
  });

  it('a commit that only moves functions (within and between files): neither new nor fixed', () => {
    const { code, j } = reviewJson(['--range', 'HEAD~1..HEAD'], dir);
    assert.equal(code, 0);
    assert.deepEqual(j.findings, []);
    assert.equal(j.review[0]!.unchanged, 2);
    assert.deepEqual(j.review[0]!.files, { base: 2, head: 2 });
  });

  it('the whole range: one new, one fixed; text marks them', () => {
    const { code, j } = reviewJson(['--range', 'HEAD~3..HEAD'], dir);
    assert.equal(code, 1);
    assert.deepEqual(summary(j), ['fixed unlock-unheld foo_twice', 'new lock-leak foo_get']);
    const t = runCli(['check', '--no-cache', '--range', 'HEAD~3..HEAD'], dir);
    assert.equal(t.code, 1);
    assert.match(t.stdout, /^NEW drv\.c:\d+:\d+: warning: .*foo_get\(\).*\[lock-leak\]$/m);
    assert.match(t.stdout, /^FIXED drv\.c:\d+:\d+: warning: .*\[unlock-unheld\]/m);
    assert.match(t.stdout, /: 1 new, 1 fixed, 1 unchanged/);
  });

  it('PATHs limit the files: other.c alone has nothing new in HEAD~3..HEAD~1', () => {
    const { code, j } = reviewJson(['--range', 'HEAD~3..HEAD~1', 'other.c'], dir);
    assert.equal(code, 0);
    assert.deepEqual(j.findings, []);
    assert.deepEqual(j.review[0]!.files, { base: 0, head: 0 });
  });

  it('--since REV compares with the working tree; unrelated edits and line shifts count as nothing', () => {
    const drv = readFileSync(join(dir, 'drv.c'), 'utf8');
    writeFileSync(join(dir, 'drv.c'), drv.replace('#include <linux/mutex.h>\n', '#include <linux/mutex.h>\n#include <linux/slab.h>\n\n/* unrelated */\nstatic int unrelated;\n'));
    try {
      const same = reviewJson(['--since', 'HEAD'], dir);
      assert.equal(same.code, 0);
      assert.deepEqual(same.j.findings, []);
      assert.equal(same.j.review[0]!.unchanged, 2);
      const all = reviewJson(['--since', 'HEAD~3'], dir);
      assert.equal(all.code, 1);
      assert.deepEqual(summary(all.j), ['fixed unlock-unheld foo_twice', 'new lock-leak foo_get']);
      // An uncommitted new bug in a new, untracked file is new too.
      writeFileSync(join(dir, 'extra.c'), HEADER + FOO_GET_LEAK.replace('foo_get', 'extra_get'));
      const untracked = reviewJson(['--since', 'HEAD'], dir);
      assert.deepEqual(summary(untracked.j), ['new lock-leak extra_get']);
    } finally {
      git(dir, 'checkout', '-q', '--', 'drv.c');
      rmSync(join(dir, 'extra.c'), { force: true });
    }
    assert.equal(git(dir, 'status', '--porcelain'), '', 'working tree untouched by the review');
  });

  it('SARIF: baselineState new / absent, valid against the SARIF 2.1.0 schema', () => {
    const r = runCli(['check', '--no-cache', '--format', 'sarif', '--range', 'HEAD~3..HEAD'], dir);
    assert.equal(r.code, 1, r.stderr);
    const log = JSON.parse(r.stdout) as { runs: Array<{ results: Array<{ ruleId: string; baselineState: string; locations: Array<{ physicalLocation: { artifactLocation: { uri: string } } }> }> }> };
    assert.deepEqual(sarifValidator()(log), []);
    const states = log.runs[0]!.results.map((x) => `${x.baselineState} ${x.ruleId}`).sort();
    assert.deepEqual(states, ['absent unlock-unheld', 'new lock-leak']);
    assert.equal(log.runs[0]!.results[0]!.locations[0]!.physicalLocation.artifactLocation.uri, 'drv.c');
  });

  it('a bad revision: one-line error, exit 2', () => {
    const r = runCli(['check', '--no-cache', '--since', 'no-such-rev'], dir);
    assert.equal(r.code, 2);
    assert.equal(r.stderr.trim().split('\n').length, 1);
    assert.match(r.stderr, /unknown revision 'no-such-rev'/);
    const r2 = runCli(['check', '--no-cache', '--range', 'HEAD~1..nope'], dir);
    assert.equal(r2.code, 2);
    assert.match(r2.stderr, /unknown revision 'nope'/);
  });
});

describe('check --patch on an mbox series', () => {
  let dir = '';
  let tree = '';
  let mbox = '';
  const base = HEADER + FOO_SET + FOO_TWICE_FIXED;
  before(() => {
    ensureBuilt();
    dir = mkdtempSync(join(tmpdir(), 'refscope-mbox-'));
    const repo = join(dir, 'repo');
    mkdirSync(repo);
    git(repo, 'init', '-q', '-b', 'main');
    commit(repo, 'base', { 'drv.c': base });
    commit(repo, 'drv: add foo_get', { 'drv.c': HEADER + FOO_GET_LEAK + FOO_SET + FOO_TWICE_FIXED });
    commit(repo, 'drv: unlock on the early return of foo_get', { 'drv.c': HEADER + FOO_GET_FIXED + FOO_SET + FOO_TWICE_FIXED });
    mbox = join(dir, 'series.mbox');
    writeFileSync(mbox, git(repo, 'format-patch', '--stdout', 'HEAD~2'));
    tree = join(dir, 'tree');
    mkdirSync(tree);
    writeFileSync(join(tree, 'drv.c'), base);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('reports per patch: the first introduces the leak, the second fixes it', () => {
    const { code, j } = reviewJson(['--patch', mbox, '--root', tree], dir);
    assert.equal(code, 1);
    assert.equal(j.review.length, 2);
    assert.deepEqual(j.review.map((s) => [s.patch, s.subject, s.new, s.fixed]), [
      [1, 'drv: add foo_get', 1, 0],
      [2, 'drv: unlock on the early return of foo_get', 0, 1],
    ]);
    assert.deepEqual(j.findings.map((f) => `${f.patch} ${f.status} ${f.rule} ${f.function}`), ['1 new lock-leak foo_get', '2 fixed lock-leak foo_get']);
    assert.equal(readFileSync(join(tree, 'drv.c'), 'utf8'), base, 'the tree is not modified');
    const t = runCli(['check', '--no-cache', '--patch', mbox, '--root', tree], dir);
    assert.match(t.stdout, /^patch 1\/2: drv: add foo_get: 1 new, 0 fixed/m);
    assert.match(t.stdout, /^patch 2\/2: drv: unlock on the early return of foo_get: 0 new, 1 fixed/m);
    // PATHs limit the reviewed files: another file of the tree -> nothing reviewed, exit 0.
    const limited = reviewJson(['--patch', mbox, '--root', tree, join(tree, 'other.c')], dir);
    assert.equal(limited.code, 0);
    assert.deepEqual(limited.j.review.map((s) => s.files), [{ base: 0, head: 0 }, { base: 0, head: 0 }]);
  });

  it('only the second patch (a fix) applied to the tree after the first: exit 0', () => {
    const tree2 = join(dir, 'tree2');
    mkdirSync(tree2, { recursive: true });
    writeFileSync(join(tree2, 'drv.c'), HEADER + FOO_GET_LEAK + FOO_SET + FOO_TWICE_FIXED);
    const second = readFileSync(mbox, 'utf8').split(/(?=^From [0-9a-f]{40} )/m)[1]!;
    const p = join(dir, '0002.patch');
    writeFileSync(p, second);
    const { code, j } = reviewJson(['--patch', p, '--root', tree2], dir);
    assert.equal(code, 0);
    assert.deepEqual(j.findings.map((f) => `${f.status} ${f.function}`), ['fixed foo_get']);
  });

  it('a patch that does not apply: error naming the patch, the file and the hunk', () => {
    const tree3 = join(dir, 'tree3');
    mkdirSync(tree3, { recursive: true });
    writeFileSync(join(tree3, 'drv.c'), base.replace('f->v = v;', 'f->v = v + 1;').replace('int foo_set', 'long foo_set'));
    const r = runCli(['check', '--no-cache', '--patch', mbox, '--root', tree3], dir);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^refscope: error: patch 1\/2 \(drv: add foo_get\): drv\.c: hunk @@ -\d+,\d+ \+\d+,\d+ @@.* does not apply\n$/);
  });
});

describe('check --patch on a real Linux 6.12 file with a seeded lock leak', () => {
  let dir = '';
  let kernel = '';
  const rel = 'drivers/gpu/drm/vc4/vc4_v3d.c';
  before(() => {
    ensureBuilt();
    const tool = join(__dirname, '..', '..', '..', 'shared', 'tools', 'kernel-source');
    kernel = execFileSync(existsSync(tool) ? tool : '/work/shared/tools/kernel-source', { encoding: 'utf8' }).trim();
    dir = mkdtempSync(join(tmpdir(), 'refscope-kpatch-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('the leak is new, the file\'s existing finding is unchanged although shifted', () => {
    const orig = readFileSync(join(kernel, rel), 'utf8');
    const leakSite = '\t\t\tvc4->power_refcount--;\n\t\t\tmutex_unlock(&vc4->power_lock);\n\t\t\treturn ret;\n';
    assert.ok(orig.includes(leakSite), 'the seed site exists in vc4_v3d.c');
    // Seed: drop the unlock on the error path of vc4_v3d_pm_get(); shift everything by two lines.
    const seeded = orig
      .replace(leakSite, '\t\t\tvc4->power_refcount--;\n\t\t\treturn ret;\n')
      .replace('#include <linux/clk.h>\n', '#include <linux/clk.h>\n/* seeded for the review test */\n\n');
    assert.notEqual(seeded, orig);
    const a = join(dir, 'a.c');
    const b = join(dir, 'b.c');
    writeFileSync(a, orig);
    writeFileSync(b, seeded);
    const d = spawnSync('git', ['diff', '--no-index', '--no-prefix', 'a.c', 'b.c'], { cwd: dir, encoding: 'utf8' });
    assert.equal(d.status, 1, d.stderr);
    const diff = d.stdout.replace(/^diff --git a\.c b\.c$/m, `diff --git a/${rel} b/${rel}`).replace(/^--- a\.c$/m, `--- a/${rel}`).replace(/^\+\+\+ b\.c$/m, `+++ b/${rel}`);
    const patch = join(dir, 'seed.patch');
    writeFileSync(patch, `From 0000000000000000000000000000000000000000 Mon Sep 17 00:00:00 2001\nFrom: Test <test@example.org>\nSubject: [PATCH] drm/vc4: seeded lock leak\n\n---\n${diff}-- \n2.47.0\n`);
    const { code, j } = reviewJson(['--patch', patch, '--root', kernel], dir);
    assert.equal(code, 1);
    assert.deepEqual(j.findings.map((f) => `${f.status} ${f.rule} ${f.function}`), ['new lock-leak vc4_v3d_pm_get']);
    assert.match(j.findings[0]!.message, /power_lock/);
    assert.ok(j.review[0]!.unchanged >= 1, 'the existing use-after-put finding matched across the shift');
    assert.equal(readFileSync(join(kernel, rel), 'utf8'), orig);
  });
});
