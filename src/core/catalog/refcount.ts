/**
 * Refcount, RCU and lookup-structure primitives as plain data (JSON-serialisable),
 * with small lookup functions. The workspace index, the wrapper learner and the
 * refcount rules read this; they never hard-code primitive names.
 *
 * Semantics of a refcount primitive (`RefOp`):
 * - `counterArg`: index of the argument that is (a pointer to) the counter
 *   (`&obj->refcount` for kref/refcount_t/atomic_t, the object itself for
 *   kobject/get_device: `objectArg` is then set too).
 * - `effect`: `init` (count := n), `get` (+1), `get-unless-zero` (+1 only if the
 *   count was non-zero; returns true on success), `put` (−1), `put-release`
 *   (−1, runs/permits the release when it reaches zero; `releasedWhen` says how
 *   the return value tells it), `read` (no change), `kill` (percpu_ref_kill: drop
 *   the initial reference and switch to atomic mode).
 * - `releaseArg`: index of the release callback argument (kref_put family).
 * - `lockArg`: on the release path the primitive returns with this lock held
 *   (`kref_put_mutex`, `kref_put_lock`, `refcount_dec_and_lock`, ...).
 * - `counterKind`: the counter's type, to tell an atomic_t used as a refcount.
 */

export type CounterKind = 'kref' | 'refcount' | 'atomic' | 'percpu_ref' | 'kobject' | 'device';
export type RefEffect = 'init' | 'get' | 'get-unless-zero' | 'put' | 'put-release' | 'read' | 'kill';

export interface RefOp {
  name: string;
  counterKind: CounterKind;
  effect: RefEffect;
  counterArg: number;
  /** The counter argument is the object (kobject_get(kobj), get_device(dev)) rather than a counter field. */
  objectArg?: boolean;
  /** Release callback argument index (kref_put family). */
  releaseArg?: number;
  /** Lock argument index held on return when the object was released (kref_put_mutex/lock, *_dec_and_lock). */
  lockArg?: number;
  lockKind?: 'mutex' | 'spinlock';
  /** How the return value says the count reached zero / the get succeeded: `nonzero` = returns true/1. */
  releasedWhen?: 'nonzero';
  /** The call returns the object pointer it was given (kobject_get, get_device). */
  returnsObject?: boolean;
  /** Value added (for `refcount_add`: argument index of the amount, negative = constant 1). */
  amountArg?: number;
  /** Only a refcount when the counter is refcount-like (an atomic_t whose name says ref/count, or used with dec_and_test). */
  onlyIfRefLike?: boolean;
}

export type RcuKind = 'call_rcu' | 'kfree_rcu' | 'synchronize_rcu' | 'rcu_barrier';
export interface RcuOp {
  name: string;
  kind: RcuKind;
  /** The argument holding the object (kfree_rcu(obj, rcu_head_field)), or the rcu_head (call_rcu(&obj->rcu, cb)). */
  objectArg: number;
  /** Callback argument index (call_rcu). */
  callbackArg?: number;
}

export interface FreeOp {
  name: string;
  /** Argument holding the freed pointer. */
  objectArg: number;
  /** Deferred until after a grace period (kfree_rcu family). */
  deferred?: boolean;
}

export type ContainerKind = 'list' | 'hlist' | 'idr' | 'xarray' | 'rbtree' | 'rhashtable' | 'radix' | 'hashtable' | 'vma-offset' | 'rcu-pointer' | 'llist';
export type ContainerOpKind = 'insert' | 'remove' | 'lookup' | 'iterate';

export interface ContainerOp {
  name: string;
  container: ContainerKind;
  op: ContainerOpKind;
  /** Argument that names the container head (`&dev->list`, `&x->idr`); -1 when the call does not name it (rb_erase without root...). */
  headArg: number;
  /** Argument that is the element: an embedded node (`&obj->node`) when `elemIsNode`, else the object pointer. -1: none. */
  elemArg: number;
  elemIsNode?: boolean;
  /** The lookup returns the element pointer (idr_find, xa_load, rhashtable_lookup...). */
  returnsElem?: boolean;
  /** RCU-safe variant (`list_add_rcu`, `hlist_del_rcu`, `*_for_each_entry_rcu`). */
  rcu?: boolean;
  /** Iterators over linked nodes: the argument naming the node member (`list_for_each_entry(pos, head, member)`: 2). */
  memberArg?: number;
}

export interface RefcountCatalog {
  refOps: RefOp[];
  rcuOps: RcuOp[];
  frees: FreeOp[];
  containerOps: ContainerOp[];
  /** Allocation calls returning fresh memory (the object is owned by the caller). */
  allocs: string[];
  /** `rcu_dereference*` family: reading an RCU-protected pointer. */
  rcuDereference: string[];
  /** `rcu_assign_pointer` family: publishing an RCU-protected pointer (headArg 0, value 1). */
  rcuAssign: string[];
  /** Slab flag marking a cache whose objects may be reused without a grace period. */
  typesafeByRcuFlag: string;
  /** Struct types that are refcounts / refcounted anchors when embedded (not by pointer). */
  counterTypes: Record<string, CounterKind>;
}

function refs(counterKind: CounterKind, effect: RefEffect, names: string[], extra: Partial<RefOp> = {}): RefOp[] {
  return names.map((name): RefOp => ({ name, counterKind, effect, counterArg: 0, ...extra }));
}

function cops(container: ContainerKind, op: ContainerOpKind, names: string[], headArg: number, elemArg: number, extra: Partial<ContainerOp> = {}): ContainerOp[] {
  return names.map((name): ContainerOp => ({ name, container, op, headArg, elemArg, ...extra }));
}

export function builtinRefcountCatalog(): RefcountCatalog {
  const refOps: RefOp[] = [
    // kref
    ...refs('kref', 'init', ['kref_init']),
    ...refs('kref', 'get', ['kref_get']),
    ...refs('kref', 'get-unless-zero', ['kref_get_unless_zero'], { releasedWhen: 'nonzero' }),
    ...refs('kref', 'put-release', ['kref_put'], { releaseArg: 1, releasedWhen: 'nonzero' }),
    ...refs('kref', 'put-release', ['kref_put_mutex'], { releaseArg: 1, lockArg: 2, lockKind: 'mutex', releasedWhen: 'nonzero' }),
    ...refs('kref', 'put-release', ['kref_put_lock'], { releaseArg: 1, lockArg: 2, lockKind: 'spinlock', releasedWhen: 'nonzero' }),
    ...refs('kref', 'read', ['kref_read']),
    // refcount_t
    ...refs('refcount', 'init', ['refcount_set', 'refcount_set_release']),
    ...refs('refcount', 'get', ['refcount_inc', 'refcount_add']),
    ...refs('refcount', 'get-unless-zero', ['refcount_inc_not_zero', 'refcount_add_not_zero', 'refcount_inc_not_zero_acquire'], { releasedWhen: 'nonzero' }),
    ...refs('refcount', 'put', ['refcount_dec', 'refcount_sub']),
    ...refs('refcount', 'put-release', ['refcount_dec_and_test', 'refcount_sub_and_test', 'refcount_dec_if_one', 'refcount_dec_not_one'], { releasedWhen: 'nonzero' }),
    ...refs('refcount', 'put-release', ['refcount_dec_and_lock', 'refcount_dec_and_lock_irqsave', 'refcount_dec_and_raw_lock'], { lockArg: 1, lockKind: 'spinlock', releasedWhen: 'nonzero' }),
    ...refs('refcount', 'put-release', ['refcount_dec_and_mutex_lock'], { lockArg: 1, lockKind: 'mutex', releasedWhen: 'nonzero' }),
    ...refs('refcount', 'read', ['refcount_read']),
    // atomic_t used as a refcount
    ...refs('atomic', 'init', ['atomic_set'], { onlyIfRefLike: true }),
    ...refs('atomic', 'get', ['atomic_inc', 'atomic_inc_return', 'atomic_add'], { onlyIfRefLike: true }),
    ...refs('atomic', 'get-unless-zero', ['atomic_inc_not_zero', 'atomic_add_unless'], { onlyIfRefLike: true, releasedWhen: 'nonzero' }),
    ...refs('atomic', 'put', ['atomic_dec', 'atomic_sub'], { onlyIfRefLike: true }),
    ...refs('atomic', 'put-release', ['atomic_dec_and_test', 'atomic_sub_and_test'], { releasedWhen: 'nonzero' }),
    ...refs('atomic', 'put-release', ['atomic_dec_return'], { onlyIfRefLike: true }),
    ...refs('atomic', 'put-release', ['atomic_dec_and_lock', 'atomic_dec_and_lock_irqsave', 'atomic_dec_and_raw_lock'], { lockArg: 1, lockKind: 'spinlock', releasedWhen: 'nonzero' }),
    ...refs('atomic', 'put-release', ['atomic_dec_and_mutex_lock'], { lockArg: 1, lockKind: 'mutex', releasedWhen: 'nonzero' }),
    ...refs('atomic', 'read', ['atomic_read'], { onlyIfRefLike: true }),
    // percpu_ref
    ...refs('percpu_ref', 'init', ['percpu_ref_init']),
    ...refs('percpu_ref', 'get', ['percpu_ref_get', 'percpu_ref_get_many']),
    ...refs('percpu_ref', 'get-unless-zero', ['percpu_ref_tryget', 'percpu_ref_tryget_live', 'percpu_ref_tryget_many', 'percpu_ref_tryget_live_rcu'], { releasedWhen: 'nonzero' }),
    ...refs('percpu_ref', 'put', ['percpu_ref_put', 'percpu_ref_put_many']),
    ...refs('percpu_ref', 'kill', ['percpu_ref_kill', 'percpu_ref_kill_and_confirm']),
    // kobject / device: the argument is the object
    ...refs('kobject', 'init', ['kobject_init', 'kobject_init_and_add'], { objectArg: true }),
    ...refs('kobject', 'get', ['kobject_get'], { objectArg: true, returnsObject: true }),
    ...refs('kobject', 'get-unless-zero', ['kobject_get_unless_zero'], { objectArg: true, returnsObject: true }),
    ...refs('kobject', 'put', ['kobject_put'], { objectArg: true }),
    ...refs('device', 'init', ['device_initialize'], { objectArg: true }),
    ...refs('device', 'get', ['get_device'], { objectArg: true, returnsObject: true }),
    ...refs('device', 'put', ['put_device'], { objectArg: true }),
  ];
  for (const o of refOps) if (o.name === 'refcount_add' || o.name === 'refcount_sub' || o.name === 'atomic_add' || o.name === 'atomic_sub'
    || o.name === 'refcount_add_not_zero' || o.name === 'refcount_sub_and_test' || o.name === 'atomic_sub_and_test') {
    o.counterArg = 1;
    o.amountArg = 0;
  }
  for (const o of refOps) if (o.name === 'atomic_add_unless') o.amountArg = 1;

  const containerOps: ContainerOp[] = [
    ...cops('list', 'insert', ['list_add', 'list_add_tail', 'list_move', 'list_move_tail'], 1, 0, { elemIsNode: true }),
    ...cops('list', 'insert', ['list_add_rcu', 'list_add_tail_rcu'], 1, 0, { elemIsNode: true, rcu: true }),
    ...cops('list', 'remove', ['list_del', 'list_del_init', 'list_del_init_careful'], -1, 0, { elemIsNode: true }),
    ...cops('list', 'remove', ['list_del_rcu', 'list_replace_rcu'], -1, 0, { elemIsNode: true, rcu: true }),
    // (pos, head, member); the _safe forms have a spare cursor before the head: (pos, n, head, member)
    ...cops('list', 'iterate', ['list_for_each_entry', 'list_for_each_entry_reverse', 'list_for_each_entry_continue', 'list_for_each_entry_from',
      'list_for_each_entry_continue_reverse', 'list_for_each_entry_from_reverse'], 1, 0, { memberArg: 2 }),
    ...cops('list', 'iterate', ['list_for_each_entry_safe', 'list_for_each_entry_safe_reverse', 'list_for_each_entry_safe_continue',
      'list_for_each_entry_safe_from'], 2, 0, { memberArg: 3 }),
    ...cops('list', 'iterate', ['list_for_each_entry_rcu', 'list_for_each_entry_srcu', 'list_for_each_entry_lockless'], 1, 0, { rcu: true, memberArg: 2 }),
    ...cops('list', 'lookup', ['list_first_entry', 'list_first_entry_or_null', 'list_last_entry'], 0, -1, { returnsElem: true }),
    ...cops('list', 'lookup', ['list_first_or_null_rcu', 'list_entry_rcu'], 0, -1, { returnsElem: true, rcu: true }),
    ...cops('hlist', 'insert', ['hlist_add_head', 'hlist_add_behind', 'hlist_add_before'], 1, 0, { elemIsNode: true }),
    ...cops('hlist', 'insert', ['hlist_add_head_rcu', 'hlist_add_behind_rcu', 'hlist_add_before_rcu', 'hlist_nulls_add_head_rcu'], 1, 0, { elemIsNode: true, rcu: true }),
    ...cops('hlist', 'remove', ['hlist_del', 'hlist_del_init'], -1, 0, { elemIsNode: true }),
    ...cops('hlist', 'remove', ['hlist_del_rcu', 'hlist_del_init_rcu', 'hlist_nulls_del_rcu', 'hlist_nulls_del_init_rcu'], -1, 0, { elemIsNode: true, rcu: true }),
    ...cops('hlist', 'iterate', ['hlist_for_each_entry', 'hlist_for_each_entry_continue', 'hlist_for_each_entry_from'], 1, 0, { memberArg: 2 }),
    ...cops('hlist', 'iterate', ['hlist_for_each_entry_safe'], 2, 0, { memberArg: 3 }),
    ...cops('hlist', 'iterate', ['hlist_for_each_entry_rcu', 'hlist_for_each_entry_rcu_bh', 'hlist_for_each_entry_srcu'], 1, 0, { rcu: true, memberArg: 2 }),
    // (tpos, pos, head, member)
    ...cops('hlist', 'iterate', ['hlist_nulls_for_each_entry_rcu', 'hlist_nulls_for_each_entry'], 2, 0, { rcu: true, memberArg: 3 }),
    ...cops('hashtable', 'insert', ['hash_add'], 0, 1, { elemIsNode: true }),
    ...cops('hashtable', 'insert', ['hash_add_rcu'], 0, 1, { elemIsNode: true, rcu: true }),
    ...cops('hashtable', 'remove', ['hash_del'], -1, 0, { elemIsNode: true }),
    ...cops('hashtable', 'remove', ['hash_del_rcu'], -1, 0, { elemIsNode: true, rcu: true }),
    ...cops('hashtable', 'iterate', ['hash_for_each_possible'], 0, 1, { memberArg: 2 }), // (name, obj, member, key)
    ...cops('hashtable', 'iterate', ['hash_for_each_possible_safe'], 0, 1, { memberArg: 3 }), // (name, obj, tmp, member, key)
    ...cops('hashtable', 'iterate', ['hash_for_each'], 0, 2, { memberArg: 3 }), // (name, bkt, obj, member)
    ...cops('hashtable', 'iterate', ['hash_for_each_safe'], 0, 3, { memberArg: 4 }), // (name, bkt, tmp, obj, member)
    ...cops('hashtable', 'iterate', ['hash_for_each_possible_rcu', 'hash_for_each_possible_rcu_notrace'], 0, 1, { rcu: true, memberArg: 2 }),
    ...cops('hashtable', 'iterate', ['hash_for_each_rcu'], 0, 2, { rcu: true, memberArg: 3 }),
    ...cops('idr', 'insert', ['idr_alloc', 'idr_alloc_cyclic', 'idr_alloc_u32', 'idr_replace'], 0, 1),
    ...cops('idr', 'remove', ['idr_remove'], 0, -1),
    ...cops('idr', 'lookup', ['idr_find', 'idr_get_next', 'idr_get_next_ul'], 0, -1, { returnsElem: true }),
    ...cops('idr', 'iterate', ['idr_for_each_entry', 'idr_for_each_entry_ul', 'idr_for_each_entry_continue'], 0, 1),
    ...cops('xarray', 'insert', ['xa_store', 'xa_insert', 'xa_store_irq', 'xa_store_bh', 'xa_insert_irq', 'xa_insert_bh', '__xa_store', '__xa_insert', 'xa_cmpxchg', '__xa_cmpxchg'], 0, 2),
    ...cops('xarray', 'insert', ['xa_alloc', 'xa_alloc_cyclic', 'xa_alloc_irq', 'xa_alloc_bh', '__xa_alloc', '__xa_alloc_cyclic'], 0, 2),
    ...cops('xarray', 'remove', ['xa_erase', 'xa_erase_irq', 'xa_erase_bh', '__xa_erase', 'xa_release'], 0, -1),
    ...cops('xarray', 'lookup', ['xa_load', 'xa_find', 'xa_find_after'], 0, -1, { returnsElem: true }),
    ...cops('xarray', 'iterate', ['xa_for_each', 'xa_for_each_start', 'xa_for_each_range', 'xa_for_each_marked'], 0, 2),
    ...cops('rbtree', 'insert', ['rb_link_node', 'rb_link_node_rcu'], -1, 0, { elemIsNode: true }),
    ...cops('rbtree', 'insert', ['rb_insert_color', 'rb_insert_color_cached', 'rb_add', 'rb_add_cached', 'rb_find_add'], 1, 0, { elemIsNode: true }),
    ...cops('rbtree', 'remove', ['rb_erase', 'rb_erase_cached', 'rb_replace_node'], 1, 0, { elemIsNode: true }),
    ...cops('rbtree', 'lookup', ['rb_find', 'rb_find_first'], 1, -1, { returnsElem: true }),
    ...cops('rhashtable', 'insert', ['rhashtable_insert_fast', 'rhashtable_lookup_insert_fast', 'rhashtable_lookup_get_insert_fast', 'rhashtable_lookup_insert_key',
      'rhltable_insert', 'rhltable_insert_key'], 0, 1, { elemIsNode: true }),
    ...cops('rhashtable', 'remove', ['rhashtable_remove_fast', 'rhltable_remove'], 0, 1, { elemIsNode: true }),
    ...cops('rhashtable', 'lookup', ['rhashtable_lookup', 'rhashtable_lookup_fast', 'rhltable_lookup'], 0, -1, { returnsElem: true, rcu: true }),
    ...cops('radix', 'insert', ['radix_tree_insert'], 0, 2),
    ...cops('radix', 'remove', ['radix_tree_delete', 'radix_tree_delete_item'], 0, -1),
    ...cops('radix', 'lookup', ['radix_tree_lookup', 'radix_tree_lookup_slot'], 0, -1, { returnsElem: true }),
    ...cops('vma-offset', 'insert', ['drm_vma_offset_add'], 0, 1, { elemIsNode: true }),
    ...cops('vma-offset', 'remove', ['drm_vma_offset_remove'], 0, 1, { elemIsNode: true }),
    ...cops('vma-offset', 'lookup', ['drm_vma_offset_lookup_locked', 'drm_vma_offset_exact_lookup_locked'], 0, -1, { returnsElem: true }),
    ...cops('llist', 'insert', ['llist_add'], 1, 0, { elemIsNode: true }),
    ...cops('rcu-pointer', 'insert', ['rcu_assign_pointer', 'RCU_INIT_POINTER', 'rcu_replace_pointer'], 0, 1, { rcu: true }),
  ];

  return {
    refOps,
    rcuOps: [
      { name: 'call_rcu', kind: 'call_rcu', objectArg: 0, callbackArg: 1 },
      { name: 'call_rcu_hurry', kind: 'call_rcu', objectArg: 0, callbackArg: 1 },
      { name: 'call_srcu', kind: 'call_rcu', objectArg: 1, callbackArg: 2 },
      { name: 'kfree_rcu', kind: 'kfree_rcu', objectArg: 0 },
      { name: 'kvfree_rcu', kind: 'kfree_rcu', objectArg: 0 },
      { name: 'kfree_rcu_mightsleep', kind: 'kfree_rcu', objectArg: 0 },
      { name: 'kvfree_rcu_mightsleep', kind: 'kfree_rcu', objectArg: 0 },
      { name: 'synchronize_rcu', kind: 'synchronize_rcu', objectArg: -1 },
      { name: 'synchronize_rcu_expedited', kind: 'synchronize_rcu', objectArg: -1 },
      { name: 'synchronize_srcu', kind: 'synchronize_rcu', objectArg: -1 },
      { name: 'synchronize_net', kind: 'synchronize_rcu', objectArg: -1 },
      { name: 'rcu_barrier', kind: 'rcu_barrier', objectArg: -1 },
    ],
    frees: [
      { name: 'kfree', objectArg: 0 }, { name: 'kvfree', objectArg: 0 }, { name: 'vfree', objectArg: 0 }, { name: 'kfree_sensitive', objectArg: 0 },
      { name: 'kvfree_sensitive', objectArg: 0 }, { name: 'kmem_cache_free', objectArg: 1 }, { name: 'devm_kfree', objectArg: 1 },
      { name: 'kfree_rcu', objectArg: 0, deferred: true }, { name: 'kvfree_rcu', objectArg: 0, deferred: true },
      { name: 'kfree_rcu_mightsleep', objectArg: 0, deferred: true }, { name: 'kvfree_rcu_mightsleep', objectArg: 0, deferred: true },
    ],
    containerOps,
    allocs: [
      'kmalloc', 'kzalloc', 'kcalloc', 'kmalloc_array', 'kmalloc_node', 'kzalloc_node', 'kvmalloc', 'kvzalloc', 'kvcalloc', 'kvmalloc_array',
      'kmem_cache_alloc', 'kmem_cache_zalloc', 'kmem_cache_alloc_node', 'vmalloc', 'vzalloc', 'kmemdup', 'devm_kzalloc', 'devm_kmalloc',
    ],
    rcuDereference: [
      'rcu_dereference', 'rcu_dereference_bh', 'rcu_dereference_sched', 'rcu_dereference_check', 'rcu_dereference_protected', 'rcu_dereference_raw',
      'rcu_dereference_bh_check', 'rcu_dereference_sched_check', 'srcu_dereference', 'srcu_dereference_check', 'rcu_access_pointer', 'rcu_dereference_all',
    ],
    rcuAssign: ['rcu_assign_pointer', 'RCU_INIT_POINTER', 'rcu_replace_pointer'],
    typesafeByRcuFlag: 'SLAB_TYPESAFE_BY_RCU',
    counterTypes: { kref: 'kref', refcount_t: 'refcount', refcount_struct: 'refcount', percpu_ref: 'percpu_ref', kobject: 'kobject', device: 'device' },
  };
}

/** Fast lookup tables over a refcount catalog (rebuild per thread; not serialised). */
export interface RefcountCatalogIndex {
  catalog: RefcountCatalog;
  refOps: Map<string, RefOp>;
  rcuOps: Map<string, RcuOp>;
  frees: Map<string, FreeOp>;
  containerOps: Map<string, ContainerOp>;
  allocs: Set<string>;
  rcuDereference: Set<string>;
  rcuAssign: Set<string>;
}

const cache = new WeakMap<RefcountCatalog, RefcountCatalogIndex>();
let builtin: RefcountCatalog | undefined;

export function indexRefcountCatalog(catalog: RefcountCatalog = (builtin ??= builtinRefcountCatalog())): RefcountCatalogIndex {
  const hit = cache.get(catalog);
  if (hit) return hit;
  const idx: RefcountCatalogIndex = {
    catalog,
    refOps: new Map(catalog.refOps.map((o) => [o.name, o])),
    rcuOps: new Map(catalog.rcuOps.map((o) => [o.name, o])),
    frees: new Map(catalog.frees.map((o) => [o.name, o])),
    containerOps: new Map(catalog.containerOps.map((o) => [o.name, o])),
    allocs: new Set(catalog.allocs),
    rcuDereference: new Set(catalog.rcuDereference),
    rcuAssign: new Set(catalog.rcuAssign),
  };
  cache.set(catalog, idx);
  return idx;
}

export function refOp(name: string, idx: RefcountCatalogIndex = indexRefcountCatalog()): RefOp | undefined {
  return idx.refOps.get(name);
}
export function containerOp(name: string, idx: RefcountCatalogIndex = indexRefcountCatalog()): ContainerOp | undefined {
  return idx.containerOps.get(name);
}
export function freeOp(name: string, idx: RefcountCatalogIndex = indexRefcountCatalog()): FreeOp | undefined {
  return idx.frees.get(name);
}
export function rcuOp(name: string, idx: RefcountCatalogIndex = indexRefcountCatalog()): RcuOp | undefined {
  return idx.rcuOps.get(name);
}
/**
 * Can this put primitive run the object's release? All but the plain decrements:
 * `refcount_dec()` / `atomic_dec()` never free (a refcount_t reaching zero there
 * is a saturation warning), while `kobject_put()`, `put_device()` and
 * `percpu_ref_put()` are plain puts that do release.
 */
export function putMayRelease(op: RefOp): boolean {
  return op.effect !== 'put' || op.objectArg === true || op.counterKind === 'percpu_ref';
}

/**
 * An `init` call that gives its caller the initial reference: `kref_init()`,
 * `refcount_set(r, 1)`, `atomic_set(a, 1)` (other values are no initial reference).
 */
export function initsFirstReference(name: string, args: readonly string[]): boolean {
  return !((name === 'atomic_set' || name.startsWith('refcount_set')) && args[1]?.trim() !== '1');
}
/** Is this a primitive get of any kind (plain or unless-zero)? */
export function isGetEffect(e: RefEffect): boolean {
  return e === 'get' || e === 'get-unless-zero';
}
export function isPutEffect(e: RefEffect): boolean {
  return e === 'put' || e === 'put-release' || e === 'kill';
}
/** A field name that suggests an atomic_t counts references. */
export function refLikeFieldName(name: string): boolean {
  return /ref|count|users|usage/i.test(name) && !/^(nr_|num_)|_(bytes|size|pages|pending|waiters|seq|gen)$/i.test(name);
}
