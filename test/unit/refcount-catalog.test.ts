/** The refcount / RCU / lookup-structure primitive catalog as data. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  builtinRefcountCatalog, containerOp, freeOp, indexRefcountCatalog, isGetEffect, isPutEffect, rcuOp, refLikeFieldName, refOp,
} from '../../src/core/catalog/refcount';

test('kref family: counter argument, effect, release callback and release-path lock', () => {
  assert.deepEqual(refOp('kref_get'), { name: 'kref_get', counterKind: 'kref', effect: 'get', counterArg: 0 });
  assert.equal(refOp('kref_get_unless_zero')?.effect, 'get-unless-zero');
  assert.equal(refOp('kref_get_unless_zero')?.releasedWhen, 'nonzero');
  assert.deepEqual([refOp('kref_put')?.effect, refOp('kref_put')?.releaseArg, refOp('kref_put')?.lockArg], ['put-release', 1, undefined]);
  assert.deepEqual([refOp('kref_put_mutex')?.releaseArg, refOp('kref_put_mutex')?.lockArg, refOp('kref_put_mutex')?.lockKind], [1, 2, 'mutex']);
  assert.deepEqual([refOp('kref_put_lock')?.lockArg, refOp('kref_put_lock')?.lockKind], [2, 'spinlock']);
  assert.equal(refOp('kref_init')?.effect, 'init');
  assert.equal(refOp('kref_read')?.effect, 'read');
});

test('refcount_t, atomic_t and percpu_ref semantics', () => {
  for (const n of ['refcount_set', 'refcount_inc', 'refcount_inc_not_zero', 'refcount_add', 'refcount_dec', 'refcount_dec_and_test',
    'refcount_dec_and_lock', 'refcount_dec_and_mutex_lock', 'refcount_dec_if_one']) assert.equal(refOp(n)?.counterKind, 'refcount', n);
  assert.deepEqual([refOp('refcount_add')?.counterArg, refOp('refcount_add')?.amountArg], [1, 0]);
  assert.deepEqual([refOp('refcount_dec_and_lock')?.lockArg, refOp('refcount_dec_and_lock')?.lockKind], [1, 'spinlock']);
  assert.deepEqual([refOp('refcount_dec_and_mutex_lock')?.lockArg, refOp('refcount_dec_and_mutex_lock')?.lockKind], [1, 'mutex']);
  assert.equal(refOp('atomic_inc')?.onlyIfRefLike, true);
  assert.equal(refOp('atomic_dec_and_test')?.onlyIfRefLike, undefined, 'dec_and_test marks the counter as a refcount by itself');
  assert.equal(refOp('atomic_inc_not_zero')?.effect, 'get-unless-zero');
  assert.equal(refOp('atomic_dec_return')?.effect, 'put-release');
  for (const n of ['percpu_ref_tryget', 'percpu_ref_tryget_live']) assert.equal(refOp(n)?.effect, 'get-unless-zero');
  assert.equal(refOp('percpu_ref_kill')?.effect, 'kill');
  assert.ok(isPutEffect('kill') && isGetEffect('get-unless-zero') && !isGetEffect('put'));
});

test('kobject and device references take the object itself', () => {
  for (const n of ['kobject_get', 'get_device']) {
    assert.equal(refOp(n)?.objectArg, true);
    assert.equal(refOp(n)?.returnsObject, true);
  }
  assert.equal(refOp('put_device')?.effect, 'put');
  assert.equal(refOp('kobject_put')?.counterKind, 'kobject');
});

test('RCU deferral, frees and lookup-structure operations', () => {
  assert.deepEqual(rcuOp('call_rcu'), { name: 'call_rcu', kind: 'call_rcu', objectArg: 0, callbackArg: 1 });
  assert.equal(rcuOp('kvfree_rcu')?.kind, 'kfree_rcu');
  assert.equal(rcuOp('synchronize_rcu')?.kind, 'synchronize_rcu');
  assert.equal(freeOp('kmem_cache_free')?.objectArg, 1);
  assert.equal(freeOp('kfree_rcu')?.deferred, true);
  assert.equal(freeOp('kfree')?.deferred, undefined);
  assert.equal(builtinRefcountCatalog().typesafeByRcuFlag, 'SLAB_TYPESAFE_BY_RCU');
  assert.deepEqual(containerOp('list_add'), { name: 'list_add', container: 'list', op: 'insert', headArg: 1, elemArg: 0, elemIsNode: true });
  assert.equal(containerOp('hlist_add_head_rcu')?.rcu, true);
  assert.deepEqual([containerOp('idr_alloc')?.headArg, containerOp('idr_alloc')?.elemArg], [0, 1]);
  assert.deepEqual([containerOp('xa_store')?.elemArg, containerOp('xa_alloc')?.elemArg], [2, 2]);
  assert.equal(containerOp('drm_vma_offset_lookup_locked')?.returnsElem, true);
  assert.equal(containerOp('rb_erase')?.op, 'remove');
  assert.equal(containerOp('list_for_each_entry_rcu')?.op, 'iterate');
  assert.ok(indexRefcountCatalog().rcuDereference.has('rcu_dereference_protected'));
});

test('the catalog is plain JSON and every name is unique per table', () => {
  const cat = builtinRefcountCatalog();
  assert.deepEqual(JSON.parse(JSON.stringify(cat)), cat);
  for (const table of [cat.refOps, cat.containerOps, cat.rcuOps, cat.frees]) {
    const names = table.map((o) => o.name);
    assert.equal(new Set(names).size, names.length);
  }
  assert.ok(refLikeFieldName('refcount') && refLikeFieldName('handle_count') && !refLikeFieldName('nr_pages'));
});
