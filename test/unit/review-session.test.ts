/**
 * The editor review's pure parts: the line diff that tells which lines a change
 * touched, and the classification and grouping of the real analysis's findings
 * of both ends (what the "Refscope Review" view shows).
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { analyzeFile } from '../../src/core/analyze';
import type { CParser } from '../../src/core/parse/parser';
import { changedLines } from '../../src/core/review/lines';
import { compareReview, groupReview, type ReviewFileInput } from '../../src/core/review/session';
import { nodeParser } from '../../src/node/assets';
import { GET_LEAK, GET_OK, HEADER, PUT_LEAK, PUT_OK, SET, TWICE_BUGGY, TWICE_FIXED } from '../fixtures/review/snippets';

const lines = (...xs: string[]) => xs.join('\n') + '\n';
const sorted = (s: Set<number>) => [...s].sort((a, b) => a - b);

describe('changedLines', () => {
  it('an insertion, a modification and a deletion: only those lines', () => {
    const base = lines('a', 'b', 'c', 'd', 'e', 'f');
    const head = lines('a', 'X', 'b', 'c', 'D', 'f');
    const r = changedLines(base, head);
    assert.deepEqual(sorted(r.changed), [2, 5]);
    assert.deepEqual(sorted(r.removed), [4, 5]);
    assert.equal(r.approximate, false);
  });

  it('equal texts change nothing; a new file changes every line; a deleted one removes every line', () => {
    const t = lines('x', 'y', 'z');
    assert.equal(changedLines(t, t).changed.size, 0);
    assert.deepEqual(sorted(changedLines(null, t).changed), [1, 2, 3]);
    assert.deepEqual(sorted(changedLines(t, null).removed), [1, 2, 3]);
  });

  it('a moved block is a deletion plus an insertion, the lines between stay', () => {
    const base = lines('f1', 'f2', 'mid1', 'mid2', 'mid3', 'tail');
    const head = lines('mid1', 'mid2', 'mid3', 'f1', 'f2', 'tail');
    const r = changedLines(base, head);
    assert.deepEqual(sorted(r.changed), [4, 5]);
    assert.deepEqual(sorted(r.removed), [1, 2]);
  });

  it('agrees with a brute-force LCS on random edits (the edit count is minimal)', () => {
    let seed = 7;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    for (let round = 0; round < 200; round++) {
      const a = Array.from({ length: rnd(12) }, () => 'abcd'[rnd(4)]!);
      const b = Array.from({ length: rnd(12) }, () => 'abcd'[rnd(4)]!);
      const dp = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
      for (let i = a.length - 1; i >= 0; i--) for (let j = b.length - 1; j >= 0; j--) dp[i]![j] = a[i] === b[j] ? dp[i + 1]![j + 1]! + 1 : Math.max(dp[i + 1]![j]!, dp[i]![j + 1]!);
      const lcs = dp[0]![0]!;
      const r = changedLines(a.length ? lines(...a) : '', b.length ? lines(...b) : '');
      assert.equal(r.changed.size, b.length - lcs, `inserted lines of ${a.join('')} -> ${b.join('')}`);
      assert.equal(r.removed.size, a.length - lcs, `deleted lines of ${a.join('')} -> ${b.join('')}`);
      // What is not changed, read in order, is the same sequence at both ends.
      assert.deepEqual(b.filter((_, i) => !r.changed.has(i + 1)), a.filter((_, i) => !r.removed.has(i + 1)));
    }
  });

  it('beyond maxEdits the middle region is reported whole, marked approximate', () => {
    const base = lines('top', ...Array.from({ length: 50 }, (_, i) => `a${i}`), 'bottom');
    const head = lines('top', ...Array.from({ length: 50 }, (_, i) => `b${i}`), 'bottom');
    const r = changedLines(base, head, 10);
    assert.equal(r.approximate, true);
    assert.deepEqual(sorted(r.changed), Array.from({ length: 50 }, (_, i) => i + 2));
  });
});

describe('compareReview / groupReview on the real analysis', () => {
  let parser: CParser;
  before(async () => {
    parser = await nodeParser();
  });
  const analyse = (text: string, key: string) => ({ text, findings: analyzeFile(parser, text, key).findings });
  const keyOf = (path: string, end: 'base' | 'head') => `${end}:${path}`;
  const file = (path: string, base: string | null, head: string | null, basePath?: string): ReviewFileInput => ({
    path,
    ...(basePath ? { basePath } : {}),
    base: base === null ? null : analyse(base, keyOf(basePath ?? path, 'base')),
    head: head === null ? null : analyse(head, keyOf(path, 'head')),
  });

  it('introduced on a changed line, introduced by a change elsewhere, fixed, and an old bug that moved files: neither', () => {
    const r = compareReview([
      file('drv.c', HEADER + SET + GET_OK + TWICE_BUGGY + PUT_OK, HEADER + GET_LEAK + TWICE_FIXED + PUT_LEAK),
      // foo_set (with its old lock leak) moved from drv.c to other.c.
      file('other.c', HEADER, HEADER + SET),
    ], keyOf);
    const got = r.items.map((i) => `${i.status} ${i.path} ${i.finding.rule} ${i.finding.function}${i.status === 'new' ? (i.onChangedLine ? ' changed' : ' elsewhere') : ''}`).sort();
    assert.deepEqual(got, [
      'fixed drv.c unlock-unheld foo_twice',
      'new drv.c lock-leak foo_get changed',
      'new drv.c lock-leak foo_put elsewhere',
    ]);
    assert.equal(r.unchanged, 1, 'the moved foo_set leak');
    const groups = groupReview(r.items);
    assert.deepEqual(groups.map((g) => [g.path, g.introduced, g.fixed]), [['drv.c', 2, 1]]);
    assert.deepEqual(groups[0]!.functions.map((f) => f.name), ['foo_get', 'foo_put', 'foo_twice'], 'functions with new findings first');
  });

  it('a renamed file: its old findings are unchanged, not fixed at the old path and new at the new', () => {
    const text = HEADER + SET;
    const r = compareReview([file('new_name.c', text, text + '\n/* renamed */\n', 'old_name.c')], keyOf);
    assert.deepEqual(r.items, []);
    assert.equal(r.unchanged, 1);
  });

  it('a new file: every finding is new and on a changed line; a deleted one: every finding fixed', () => {
    const r = compareReview([file('added.c', null, HEADER + SET), file('gone.c', HEADER + TWICE_BUGGY, null)], keyOf);
    assert.deepEqual(r.items.map((i) => `${i.status} ${i.path} ${i.finding.function} ${i.onChangedLine}`).sort(), ['fixed gone.c foo_twice false', 'new added.c foo_set true']);
  });
});
