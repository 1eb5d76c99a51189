/** Metadata of every rule (ids are part of the CLI/SARIF contract). */
import type { Severity } from '../types';

export interface RuleMeta {
  id: string;
  name: string;
  shortDescription: string;
  fullDescription: string;
  defaultSeverity: Severity;
  helpUri: string;
  /** Id of the race scenario that explains findings of this rule, or null. */
  scenario: string | null;
}

const help = (id: string): string => `https://github.com/refscope/refscope/blob/main/docs/rules/${id}.md`;

export const RULES: readonly RuleMeta[] = [
  {
    id: 'lock-leak',
    name: 'LockLeak',
    shortDescription: 'A path returns with a lock held that the function acquired.',
    fullDescription:
      'Some paths through the function release a lock it acquired and another path returns with the lock still held, '
      + 'typically an error path that skips the unlock. The function is not annotated __acquires/__cond_acquires and is not a lock wrapper.',
    defaultSeverity: 'warning',
    helpUri: help('lock-leak'),
    scenario: 'error-path-lock-leak',
  },
  {
    id: 'double-lock',
    name: 'DoubleLock',
    shortDescription: 'A non-recursive lock is acquired while already held.',
    fullDescription:
      'On some path the function acquires a lock that it already holds. Kernel mutexes, spinlocks, rwlock write sides and '
      + 'rw_semaphores are not recursive: the second acquire deadlocks the task against itself.',
    defaultSeverity: 'warning',
    helpUri: help('double-lock'),
    scenario: 'recursive-lock-self-deadlock',
  },
  {
    id: 'unlock-unheld',
    name: 'UnlockUnheld',
    shortDescription: 'A lock is released on a path where it is not held.',
    fullDescription:
      'On some path the function releases a lock that it already released (double unlock) or whose acquisition failed or was skipped. '
      + 'Locks the caller holds (annotated __releases/__must_hold, asserted with lockdep_assert_held, or simply never taken here) are not reported.',
    defaultSeverity: 'warning',
    helpUri: help('unlock-unheld'),
    scenario: 'double-unlock',
  },
  {
    id: 'sleep-in-atomic',
    name: 'SleepInAtomic',
    shortDescription: 'A call that may sleep runs in atomic context.',
    fullDescription:
      'On some path the function calls something that may sleep (mutex_lock, msleep, a GFP_KERNEL allocation, a function whose summary may sleep...) '
      + 'while holding a spinlock or rwlock, inside rcu_read_lock, or with preemption, interrupts or bottom halves disabled.',
    defaultSeverity: 'warning',
    helpUri: help('sleep-in-atomic'),
    scenario: 'sleep-under-spinlock',
  },
  {
    id: 'unchecked-get-unless-zero',
    name: 'UncheckedGetUnlessZero',
    shortDescription: 'The result of a get-unless-zero is ignored.',
    fullDescription:
      'kref_get_unless_zero, refcount_inc_not_zero, atomic_inc_not_zero, percpu_ref_tryget* (or a learned conditional-get wrapper) fail when the count '
      + 'already reached zero. Their result is discarded or stored and never tested, so the code goes on using an object it holds no reference to.',
    defaultSeverity: 'warning',
    helpUri: help('unchecked-get-unless-zero'),
    scenario: 'unchecked-get-unless-zero',
  },
  {
    id: 'get-unless-zero-outside-lookup',
    name: 'GetUnlessZeroOutsideLookup',
    shortDescription: 'A get-unless-zero runs after the critical section that protected the lookup ended.',
    fullDescription:
      'A pointer found by a lookup (idr_find, xa_load, list or hash iteration, rhashtable lookup, rcu_dereference, a lookup helper) is only '
      + 'guaranteed to point at live memory while the lock or RCU read side protecting the lookup is held. After the unlock the object may be '
      + 'released and freed, so even kref_get_unless_zero reads freed memory.',
    defaultSeverity: 'warning',
    helpUri: help('get-unless-zero-outside-lookup'),
    scenario: 'get-unless-zero-outside-lookup',
  },
  {
    id: 'put-under-release-lock',
    name: 'PutUnderReleaseLock',
    shortDescription: 'A put runs with a lock held that the release callback takes.',
    fullDescription:
      'The put (kref_put, *_dec_and_test followed by the release, or a put wrapper) may drop the last reference and run the release callback in '
      + 'this task; the callback (directly or through callees) takes a lock of a class this path already holds: a self-deadlock. '
      + 'kref_put_mutex/kref_put_lock take the lock only when the count reaches zero and are the correct forms.',
    defaultSeverity: 'warning',
    helpUri: help('put-under-release-lock'),
    scenario: 'put-under-release-lock',
  },
  {
    id: 'free-without-grace-period',
    name: 'FreeWithoutGracePeriod',
    shortDescription: 'An object that RCU readers can find is freed without a grace period.',
    fullDescription:
      'Readers find objects of this type in a lookup structure under rcu_read_lock. Freeing one with kfree/kmem_cache_free right after '
      + 'unpublishing it (or in its release callback) lets a reader that found it just before still use the memory. Use kfree_rcu/call_rcu, '
      + 'synchronize_rcu before the free, or a SLAB_TYPESAFE_BY_RCU cache with identity checks.',
    defaultSeverity: 'warning',
    helpUri: help('free-without-grace-period'),
    scenario: 'kfree-instead-of-kfree-rcu',
  },
  {
    id: 'ref-leak',
    name: 'RefLeak',
    shortDescription: 'A path returns without releasing or transferring a reference the function obtained.',
    fullDescription:
      'The function obtained a reference (a get, a lookup-and-get, an allocation, a call whose learned summary returns a new reference) and some path '
      + 'returns without putting it, returning it, storing it in a structure or passing it to a callee that consumes it. The object can never be freed.',
    defaultSeverity: 'warning',
    helpUri: help('ref-leak'),
    scenario: 'error-path-ref-leak',
  },
  {
    id: 'use-after-put',
    name: 'UseAfterPut',
    shortDescription: 'An object is used after a put that may have dropped the last reference this function held.',
    fullDescription:
      'After the put (kref_put, refcount_dec_and_test, a learned put wrapper) another thread may drop its reference too and the release callback '
      + 'frees the object; dereferencing it, reading a field or passing it on afterwards is a use-after-free unless another reference is still held.',
    defaultSeverity: 'warning',
    helpUri: help('use-after-put'),
    scenario: 'kref-rule1-get-before-handoff',
  },
  {
    id: 'unsafe-lookup-get',
    name: 'UnsafeLookupGet',
    shortDescription: 'A plain get on an object found by a lookup while its count can already be zero.',
    fullDescription:
      'The object was found in a lookup structure that does not hold its own reference, and its final put is not serialised against the lookup by a '
      + 'lock the put side also holds. A plain kref_get/refcount_inc can then resurrect an object whose release is already running '
      + '(Documentation/core-api/kref.rst rule 3). Use kref_get_unless_zero inside the lookup\'s critical section, or kref_put_mutex/kref_put_lock.',
    defaultSeverity: 'warning',
    helpUri: help('unsafe-lookup-get'),
    scenario: 'kref-rule3-lookup-get-without-lock',
  },
  {
    id: 'lock-order-inversion',
    name: 'LockOrderInversion',
    shortDescription: 'Two lock classes are taken in opposite orders on different paths.',
    fullDescription:
      'One path acquires lock class B while holding A, another acquires A while holding B (possibly in another file, possibly through callees). '
      + 'Two tasks running these paths concurrently can deadlock (ABBA), as lockdep would report.',
    defaultSeverity: 'warning',
    helpUri: help('lock-order-inversion'),
    scenario: 'abba-lock-order',
  },
];

export function ruleMeta(id: string): RuleMeta | undefined {
  return RULES.find((r) => r.id === id);
}
