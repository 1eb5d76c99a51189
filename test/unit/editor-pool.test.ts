/**
 * The editor's incremental-analysis cache (src/vscode/backend.ts AnalyzerPool):
 * an LRU bounded by count and by estimated memory, the file just analysed
 * always kept, closed files released. Real WASM parser.
 */
import { strict as assert } from 'node:assert';
import { before, test } from 'node:test';
import type { CParser } from '../../src/core/parse/parser';
import { nodeParser } from '../../src/node/assets';
import { AnalyzerPool } from '../../src/vscode/backend';

let parser: CParser;
before(async () => {
  parser = await nodeParser();
});

/** A file of `n` small functions (about 100 characters each). */
function source(n: number, tag: string): string {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(`static int ${tag}_${i}(struct dev *d)\n{\n\tspin_lock(&d->lock);\n\td->n++;\n\tspin_unlock(&d->lock);\n\treturn 0;\n}\n`);
  return out.join('\n');
}

test('the memory bound drops the least recently used states first and keeps the one just analysed', () => {
  const a = source(20, 'a');
  const budget = 32 * a.length * 2.5; // room for two files of this size, not three
  const pool = new AnalyzerPool(parser, 24, budget);
  try {
    pool.analyze(a, 'a.c');
    pool.analyze(source(20, 'b'), 'b.c');
    assert.deepEqual(pool.files(), ['a.c', 'b.c']);
    pool.analyze(a, 'a.c'); // a is now the most recent
    pool.analyze(source(20, 'c'), 'c.c');
    assert.deepEqual(pool.files(), ['a.c', 'c.c'], 'b was the least recently used');
    assert.ok(pool.approxBytes() <= budget);
    // one file over the whole budget stays (it is the one being edited), alone
    const huge = source(200, 'h');
    const r = pool.analyze(huge, 'huge.c');
    assert.equal(r.result.stats.functions, 200);
    assert.deepEqual(pool.files(), ['huge.c']);
    // its next edit is still incremental: the state was kept
    const edited = huge.replace('h_7(struct dev *d)\n{\n\tspin_lock(&d->lock);\n\td->n++;', 'h_7(struct dev *d)\n{\n\tspin_lock(&d->lock);\n\td->n += 2;');
    assert.equal(pool.analyze(edited, 'huge.c').mode, 'incremental');
  } finally {
    pool.dispose();
  }
  assert.deepEqual(pool.files(), []);
});

test('the count bound, and close() releasing a state', () => {
  const pool = new AnalyzerPool(parser, 3);
  try {
    for (const f of ['1.c', '2.c', '3.c', '4.c', '5.c']) pool.analyze(source(2, `f${f[0]}`), f);
    assert.deepEqual(pool.files(), ['3.c', '4.c', '5.c']);
    pool.close('4.c');
    assert.deepEqual(pool.files(), ['3.c', '5.c']);
    assert.equal(pool.analyze(source(2, 'f4'), '4.c').mode, 'full', 'a released file is analysed in full again');
  } finally {
    pool.dispose();
  }
});
