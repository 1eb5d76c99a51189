/**
 * The pure parts of patch review: new/fixed matching (on findings of the real
 * analysis of real parses) and in-memory patch application.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { analyzeFile } from '../../src/core/analyze';
import type { CParser } from '../../src/core/parse/parser';
import { matchFindings, stripLineNumbers } from '../../src/core/review/match';
import { applyFilePatch, parsePatchSeries, PatchError } from '../../src/core/review/patch';
import type { Finding } from '../../src/core/types';
import { nodeParser } from '../../src/node/assets';

const LEAK = `int a_set(struct a *p, int v)
{
	mutex_lock(&p->lock);
	if (v < 0)
		return -EINVAL;
	p->v = v;
	mutex_unlock(&p->lock);
	return 0;
}
`;

const LEAK2 = `int a_put(struct a *p, int v)
{
	mutex_lock(&p->lock);
	if (v > 9)
		return -EINVAL;
	p->v = v;
	mutex_unlock(&p->lock);
	return 0;
}
`;

describe('matchFindings', () => {
  let parser: CParser;
  before(async () => {
    parser = await nodeParser();
  });
  const run = (base: Record<string, string>, head: Record<string, string>) => {
    const fs = (files: Record<string, string>) => Object.entries(files).flatMap(([name, text]) => analyzeFile(parser, text, name).findings);
    const b = fs(base);
    const h = fs(head);
    return { b, h, r: matchFindings<Finding & { line: number }>(end(b, base), end(h, head)) };
  };
  const end = (findings: Finding[], files: Record<string, string>) => ({
    findings: findings.map((f) => ({ ...f, line: f.span.start.line })),
    text: (file: string) => files[file],
  });

  it('line shifts, a move to another file and an unrelated edit are unchanged', () => {
    const { b, r } = run({ 'x.c': LEAK }, { 'x.c': '/* one */\n/* two */\nstatic int z;\n', 'y.c': '\n\n' + LEAK.replace('p->v = v;', 'p->v = v; /* same */') });
    assert.equal(b.length, 1);
    assert.equal(r.introduced.length, 0);
    assert.equal(r.fixed.length, 0);
    assert.equal(r.unchanged.length, 1);
  });

  it('a second leak of the same shape in another function is new; removing one is fixed', () => {
    const { r } = run({ 'x.c': LEAK }, { 'x.c': LEAK + '\n' + LEAK2 });
    assert.deepEqual(r.introduced.map((f) => f.function), ['a_put']);
    assert.equal(r.unchanged.length, 1);
    const back = run({ 'x.c': LEAK2 + LEAK }, { 'x.c': LEAK });
    assert.deepEqual(back.r.fixed.map((f) => f.function), ['a_put']);
    assert.deepEqual(back.r.introduced, []);
  });

  it('the same finding in a third file: the copy in the new file is the new one', () => {
    const { h, r } = run({ 'x.c': LEAK, 'y.c': LEAK }, { 'x.c': LEAK, 'y.c': '\n' + LEAK, 'z.c': LEAK });
    assert.equal(h.length, 3);
    assert.deepEqual(r.introduced.map((f) => f.file), ['z.c']);
    assert.deepEqual(r.unchanged.map(([x, y]) => `${x.file}=${y.file}`).sort(), ['x.c=x.c', 'y.c=y.c']);
  });

  it('an edit of the anchor line itself at the same place in the function is unchanged', () => {
    const { r } = run({ 'x.c': LEAK }, { 'x.c': '\n' + LEAK.replace('return -EINVAL;', 'return -EBUSY;') });
    assert.equal(r.unchanged.length, 1);
    assert.deepEqual(r.introduced, []);
  });

  it('stripLineNumbers drops line numbers only', () => {
    assert.equal(stripLineNumbers("acquired at line 6 is held (released at lines 3 and 11) in a.c:12"), 'acquired at line # is held (released at line #) in a.c:#');
    assert.equal(stripLineNumbers("mutex '&p->lock[2]' held"), "mutex '&p->lock[2]' held");
  });
});

const FILE = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'].map((x) => `line ${x}`).join('\n') + '\n';

function mbox(n: number, subject: string, diff: string): string {
  return `From 1234567890123456789012345678901234567890 Mon Sep 17 00:00:00 2001\nFrom: A <a@b>\nDate: Mon, 1 Jan 2024 00:00:00 +0000\nSubject: [PATCH ${n}/2] ${subject}\n\nbody line\n---\n x.c | 2 +-\n\n${diff}-- \n2.47.0\n\n`;
}

describe('patch series', () => {
  const d1 = 'diff --git a/x.c b/x.c\nindex 1..2 100644\n--- a/x.c\n+++ b/x.c\n@@ -2,3 +2,3 @@\n line b\n-line c\n+line C\n line d\n';
  const d2 = 'diff --git a/x.c b/x.c\n--- a/x.c\n+++ b/x.c\n@@ -6,3 +6,4 @@\n line f\n line g\n+line g2\n line h\n' +
    'diff --git a/new.h b/new.h\nnew file mode 100644\n--- /dev/null\n+++ b/new.h\n@@ -0,0 +1,2 @@\n+#define X 1\n+#define Y 2\n\\ No newline at end of file\n';

  it('splits an mbox into patches with their subjects and files', () => {
    const s = parsePatchSeries(mbox(1, 'x: one', d1) + mbox(2, 'x: two', d2));
    assert.deepEqual(s.map((p) => [p.index, p.subject, p.files.map((f) => `${f.oldPath}->${f.newPath}`)]), [
      [1, 'x: one', ['x.c->x.c']],
      [2, 'x: two', ['x.c->x.c', 'null->new.h']],
    ]);
  });

  it('applies hunks, also at an offset, new files without a final newline', () => {
    const [p1, p2] = parsePatchSeries(mbox(1, 'x: one', d1) + mbox(2, 'x: two', d2));
    const one = applyFilePatch(FILE, p1!.files[0]!, 'patch 1');
    assert.equal(one, FILE.replace('line c', 'line C'));
    // Three lines added at the top: the second patch's hunk applies 3 lines further down.
    const shifted = 'x\ny\nz\n' + one!;
    assert.equal(applyFilePatch(shifted, p2!.files[0]!, 'patch 2'), shifted.replace('line g\n', 'line g\nline g2\n'));
    assert.equal(applyFilePatch(null, p2!.files[1]!, 'patch 2'), '#define X 1\n#define Y 2');
  });

  it('a hunk whose context is gone is an error naming the patch, file and hunk', () => {
    const [p1] = parsePatchSeries(mbox(1, 'x: one', d1));
    assert.throws(() => applyFilePatch(FILE.replace('line b', 'line B'), p1!.files[0]!, 'patch 1/1 (x: one)'), (e: Error) => {
      assert.ok(e instanceof PatchError);
      assert.equal(e.message, 'patch 1/1 (x: one): x.c: hunk @@ -2,3 +2,3 @@ does not apply');
      return true;
    });
  });

  it('a bare unified diff is one patch; no diff at all is an error', () => {
    const s = parsePatchSeries('--- a/x.c\n+++ b/x.c\n@@ -1 +1 @@\n-line a\n+line A\n');
    assert.equal(s.length, 1);
    assert.equal(applyFilePatch(FILE, s[0]!.files[0]!, 'p'), FILE.replace('line a', 'line A'));
    assert.throws(() => parsePatchSeries('hello\n'), /no diff found/);
  });
});
