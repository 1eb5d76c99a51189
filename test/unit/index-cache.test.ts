/**
 * The Node facts cache: hit on unchanged content, miss after a change (only the
 * changed file is re-extracted, the merged index follows), corrupt and truncated
 * entries ignored and rebuilt, atomic writes leave no temporary files.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nodeParser } from '../../src/node/assets';
import { NodeFactsCache, defaultCacheDir } from '../../src/node/cache';
import { buildWorkspaceIndex, factsFor, learnedWrappers, MemoryFactsCache, FACTS_VERSION } from '../../src/core/index/index';

const DIR = join(__dirname, '..', 'fixtures', 'index');
const read = (f: string) => readFileSync(join(DIR, f), 'utf8');

function withDir(fn: (dir: string) => Promise<void>): () => Promise<void> {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), 'refscope-cache-'));
    try {
      await fn(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

function listAll(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) if (e.isFile()) out.push(e.name);
  return out;
}

test('second run over the same files reads only cached facts, and they equal fresh ones', withDir(async (dir) => {
  const parser = await nodeParser();
  const cache = new NodeFactsCache(dir);
  const files = ['foo.h', 'foo.c', 'gem.c'];
  const first = files.map((f) => factsFor(parser, read(f), f, cache));
  assert.deepEqual(first.map((r) => r.cached), [false, false, false]);
  assert.equal(cache.counters.writes, 3);
  const cache2 = new NodeFactsCache(dir);
  const second = files.map((f) => factsFor(parser, read(f), f, cache2));
  assert.deepEqual(second.map((r) => r.cached), [true, true, true]);
  assert.equal(cache2.counters.hits, 3);
  assert.deepEqual(second.map((r) => r.facts), first.map((r) => r.facts));
  assert.ok(listAll(dir).every((n) => n.endsWith('.json')), 'no temporary files left behind');
}));

test('one changed file is re-extracted alone and the merged index follows the change', withDir(async (dir) => {
  const parser = await nodeParser();
  const cache = new NodeFactsCache(dir);
  const texts = new Map([['foo.h', read('foo.h')], ['foo.c', read('foo.c')]]);
  const run = () => [...texts].map(([f, t]) => factsFor(parser, t, f, cache));
  const before = buildWorkspaceIndex(run().map((r) => r.facts));
  assert.ok(learnedWrappers(before).puts.includes('bar_put'));
  // bar_put stops putting: a one-file edit.
  texts.set('foo.h', texts.get('foo.h')!.replace('foo_put(&b->base);', 'b->flags = 0;'));
  const results = run();
  assert.deepEqual(results.map((r) => r.cached), [false, true]);
  const after = buildWorkspaceIndex(results.map((r) => r.facts));
  assert.ok(!learnedWrappers(after).puts.includes('bar_put'));
  assert.ok(learnedWrappers(after).puts.includes('foo_put'));
}));

test('corrupt, truncated and foreign cache entries are ignored and rebuilt, never thrown', withDir(async (dir) => {
  const parser = await nodeParser();
  const text = read('gem.c');
  const cache = new NodeFactsCache(dir);
  const good = factsFor(parser, text, 'gem.c', cache).facts;
  const path = cache.pathOf('gem.c', text);
  const full = readFileSync(path, 'utf8');
  for (const bad of ['\u0000\u0001garbage', full.slice(0, full.length >> 1), JSON.stringify({ ...good, version: FACTS_VERSION + 100 }), '[]', 'null']) {
    writeFileSync(path, bad);
    const c = new NodeFactsCache(dir);
    assert.equal(c.load('gem.c', text), undefined);
    assert.equal(c.counters.corrupt, 1);
    const r = factsFor(parser, text, 'gem.c', c);
    assert.equal(r.cached, false);
    assert.deepEqual(r.facts, good);
    assert.equal(JSON.parse(readFileSync(path, 'utf8')).version, FACTS_VERSION, 'the entry is rewritten');
  }
}));

test('an unwritable cache directory only costs the cache', withDir(async (dir) => {
  const parser = await nodeParser();
  const blocker = join(dir, 'a-file');
  writeFileSync(blocker, 'not a directory');
  const c = new NodeFactsCache(join(blocker, 'cache'));
  const r = factsFor(parser, read('foo.h'), 'foo.h', c);
  assert.equal(r.cached, false);
  assert.ok(r.facts.functions.length > 0);
  assert.equal(c.counters.writeErrors, 1);
  assert.equal(c.load('foo.h', read('foo.h')), undefined);
}));

test('the cache key depends on the content and the file label; default directories', async () => {
  const c = new NodeFactsCache('/x');
  assert.notEqual(c.keyOf('a.c', 'int x;'), c.keyOf('a.c', 'int y;'));
  assert.notEqual(c.keyOf('a.c', 'int x;'), c.keyOf('b.c', 'int x;'));
  assert.equal(c.keyOf('a.c', 'int x;'), new NodeFactsCache('/y').keyOf('a.c', 'int x;'));
  assert.equal(defaultCacheDir('/r'), '/r/.refscope-cache');
  const mem = new MemoryFactsCache();
  const parser = await nodeParser();
  assert.equal(factsFor(parser, 'int x;', 'a.c', mem).cached, false);
  assert.equal(factsFor(parser, 'int x;', 'a.c', mem).cached, true);
  assert.equal(factsFor(parser, 'int y;', 'a.c', mem).cached, false);
});
