/**
 * lock-order-inversion on hand-written kernel-style fixtures
 * (test/fixtures/lockorder), with the real WASM grammar: per-file edges, the
 * workspace-wide aggregation (two files), inversions through callees (same file
 * and another file's summaries as knowledge), and the pairs that are not
 * inversions (lockdep subclasses, trylocks, rwlock readers, callees that drop
 * the caller's locks first, lock-pair wrappers, names in comments).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { nodeParser } from '../../src/node/assets';
import { analyzeFile, analyzeFileCrossFile } from '../../src/core/analyze';
import { builtinCatalog } from '../../src/core/catalog';
import { summarizeFile, type FunctionSummary } from '../../src/core/index/summaries';
import { findLockOrderInversions, LOCK_ORDER_INVERSION, lockOrderEdges } from '../../src/core/rules/lock-order';
import { ruleMeta } from '../../src/core/rules/registry';
import type { LockOrderEdge } from '../../src/core/types';

const DIR = join(__dirname, '..', 'fixtures', 'lockorder');
const read = (n: string): string => readFileSync(join(DIR, n), 'utf8');

async function edgesOf(name: string, knowledge?: ReadonlyMap<string, FunctionSummary>): Promise<LockOrderEdge[]> {
  return lockOrderEdges(await nodeParser(), read(name), `lockorder/${name}`, knowledge ? { knowledge } : {});
}

const pairs = (es: LockOrderEdge[]): string[] => es.map((e) => `${e.from} > ${e.to} @${e.toLine}`);

test('rule metadata, scenario and documentation', () => {
  const m = ruleMeta(LOCK_ORDER_INVERSION);
  assert.ok(m);
  assert.equal(m.scenario, 'abba-lock-order');
  assert.ok(m.helpUri.endsWith('docs/rules/lock-order-inversion.md'));
  const doc = readFileSync(join(__dirname, '..', '..', 'docs', 'rules', 'lock-order-inversion.md'), 'utf8');
  assert.match(doc, /abba-lock-order/);
  assert.match(doc, /lockdep-design\.rst/);
});

test('ABBA in one file: one finding for the pair, both paths in the trace', async () => {
  const edges = await edgesOf('lock-order-abba-one-file.c');
  assert.deepEqual(pairs(edges), [
    'struct fake_dev.lock > struct fake_queue.lock @21',
    'struct fake_queue.lock > struct fake_dev.lock @36',
    'struct fake_dev.lock > struct fake_queue.lock @47',
  ]);
  const fs = findLockOrderInversions(edges);
  assert.equal(fs.length, 1);
  const f = fs[0]!;
  assert.equal(f.rule, 'lock-order-inversion');
  assert.equal(f.scenario, 'abba-lock-order');
  assert.equal(f.function, 'queue_submit');
  assert.equal(f.span.start.line, 21);
  assert.match(f.message, /`fake_queue\.lock` is acquired here while `fake_dev\.lock` is held, but queue_reset\(\) at lockorder\/lock-order-abba-one-file\.c:36/);
  assert.match(f.message, /1 more place takes these locks/);
  assert.deepEqual(f.trace.map((t) => t.line), [20, 21, 31, 36]);
  assert.match(f.trace[0]!.message, /^path 1 \(queue_submit\): fake_dev\.lock acquired by mutex_lock\(&dev->lock\)/);
  assert.match(f.trace[3]!.message, /^path 2 \(queue_reset\): fake_dev\.lock acquired by mutex_lock\(&dev->lock\) while fake_queue\.lock is held/);
});

test('ABBA across two files: edges per file, inversion only over both files, JSON round trip, any order', async () => {
  const a = await edgesOf('lock-order-abba-a.c');
  const b = await edgesOf('lock-order-abba-b.c');
  assert.deepEqual(pairs(a), ['registry_lock > struct client.lock @16']);
  assert.deepEqual(pairs(b), ['struct client.lock > registry_lock @17']);
  assert.equal(findLockOrderInversions(a).length, 0);
  assert.equal(findLockOrderInversions(b).length, 0);
  const shipped = JSON.parse(JSON.stringify([...b, ...a])) as LockOrderEdge[];
  assert.deepEqual(shipped, [...b, ...a]);
  const fs = findLockOrderInversions(shipped);
  assert.deepEqual(findLockOrderInversions([...a, ...b]), fs);
  assert.equal(fs.length, 1);
  const f = fs[0]!;
  assert.equal(f.file, 'lockorder/lock-order-abba-a.c');
  assert.equal(f.span.start.line, 16);
  assert.deepEqual(f.trace.map((t) => `${t.file}:${t.line}`), [
    'lockorder/lock-order-abba-a.c:15', 'lockorder/lock-order-abba-a.c:16', 'lockorder/lock-order-abba-b.c:15', 'lockorder/lock-order-abba-b.c:17',
  ]);
  assert.match(f.message, /client_close\(\) at lockorder\/lock-order-abba-b\.c:17/);
});

test('inversion through a callee that takes and releases the lock, and through a lock wrapper', async () => {
  const edges = await edgesOf('lock-order-through-callee.c');
  assert.deepEqual(pairs(edges), ['struct gpu_ctx.mutex > struct ring.lock @39', 'struct ring.lock > struct gpu_ctx.mutex @46']);
  const fs = findLockOrderInversions(edges);
  assert.equal(fs.length, 1);
  const t = fs[0]!.trace;
  assert.deepEqual(t.map((s) => s.line), [38, 39, 21, 45, 46, 28]);
  assert.match(t[1]!.message, /ring_kick\(\) called with gpu_ctx\.mutex held/);
  assert.match(t[2]!.message, /ring\.lock acquired inside ring_kick\(\) \(spin_lock\)/);
  assert.match(t[4]!.message, /ctx_lock\(\) called with ring\.lock held/);
  assert.match(t[5]!.message, /gpu_ctx\.mutex acquired inside ctx_lock\(\) \(mutex_lock\)/);
});

test('inversion through a callee defined in another file (its summary passed as knowledge)', async () => {
  const parser = await nodeParser();
  const other = 'lockorder/lock-order-through-callee.c';
  const sums = summarizeFile(parser, read('lock-order-through-callee.c'), other, builtinCatalog());
  const kick = sums.find((s) => s.name === 'ring_kick')!;
  assert.deepEqual(kick.takes?.map((t) => `${t.cls}@${t.file}:${t.line}`), [`struct ring.lock@${other}:21`]);
  assert.equal(kick.acquires.length, 0); // no net lock effect: only `takes` tells
  const knowledge = new Map(sums.map((s) => [s.name, s]));
  assert.deepEqual(pairs(await edgesOf('lock-order-callee-other-file.c')), ['struct ring.lock > struct engine.mutex @31']);
  const edges = await edgesOf('lock-order-callee-other-file.c', knowledge);
  assert.deepEqual(pairs(edges), ['struct engine.mutex > struct ring.lock @24', 'struct ring.lock > struct engine.mutex @31']);
  const fs = findLockOrderInversions(edges);
  assert.equal(fs.length, 1);
  assert.ok(fs[0]!.trace.some((s) => s.file === other && s.line === 21), 'the callee step names the other file');
  // a takes-only function is offered to other files (CLI cross-file knowledge)
  const cf = analyzeFileCrossFile(parser, read('lock-order-callee-other-file.c').replace('void ring_kick(struct ring *r);', 'void ring_kick(struct ring *r) { spin_lock(&r->lock); spin_unlock(&r->lock); }'), 'x.c');
  assert.ok(cf.crossFile.exported.some((s) => s.name === 'ring_kick' && s.takes?.length === 1));
});

test('analyzeFile({ lockOrder: true }) returns the same edges as lockOrderEdges; off by default', async () => {
  const parser = await nodeParser();
  const text = read('lock-order-through-callee.c');
  const r = analyzeFile(parser, text, 'lockorder/lock-order-through-callee.c', { lockOrder: true });
  assert.deepEqual(r.lockOrder, await edgesOf('lock-order-through-callee.c'));
  assert.equal(analyzeFile(parser, text, 'lockorder/lock-order-through-callee.c').lockOrder, undefined);
});

test('not inversions: lockdep subclasses, trylock as the inverse, rwlock readers', async () => {
  const nested = await edgesOf('lock-order-nested-subclass.c');
  assert.deepEqual(pairs(nested), ['struct node.lock > struct node.lock/nested @16', 'struct node.lock > struct node.lock/nested @28']);
  assert.equal(findLockOrderInversions(nested).length, 0);

  const trylock = await edgesOf('lock-order-trylock-inverse.c');
  assert.deepEqual(pairs(trylock), ['struct pool.lock > struct pobj.lock @21']);
  assert.equal(findLockOrderInversions(trylock).length, 0);

  const readers = await edgesOf('lock-order-rwlock-readers.c');
  assert.deepEqual(pairs(readers), ['table_lock > struct entry.lock @17', 'struct entry.lock > table_lock @26']);
  assert.equal(readers[0]!.fromShared, true);
  assert.equal(readers[1]!.toShared, true);
  assert.equal(findLockOrderInversions(readers).length, 0);
  // a writer on one side deadlocks against the readers' order
  const writer = { ...readers[1]!, toShared: undefined, function: 'entry_purge' };
  delete writer.toShared;
  assert.equal(findLockOrderInversions([readers[0]!, writer]).length, 1);
});

test('regressions from drm triage: callee dropping the caller\'s locks, lock-pair wrapper, names in comments', async () => {
  // kfd wait_on_destroy_queue(): only process -> manager, never manager -> process
  assert.deepEqual(pairs(await edgesOf('lock-order-callee-drops-caller-lock.c')), [
    'struct process.mutex > struct manager.lock @28', 'struct process.mutex > struct manager.lock @37',
  ]);
  // f2fs_zero_post_eof_page(): a take a by-value parameter chooses gives its callers no order
  assert.deepEqual(pairs(await edgesOf('lock-order-param-chosen.c')), ['struct fsinfo.invalidate_lock > struct fsinfo.gc_lock @33']);
  // amdgpu lock_spi_csq_mutexes(): the wrapper's own order only; drm_vblank: `reg_select_reverse()` in a comment is no call
  const pairEdges = await edgesOf('lock-order-lock-pair-wrapper.c');
  assert.deepEqual(pairs(pairEdges), ['struct adev.srbm_mutex > struct adev.grbm_idx_mutex @17', 'struct adev.srbm_mutex > struct adev.grbm_idx_mutex @34']);
  assert.equal(findLockOrderInversions(pairEdges).length, 0);
});
