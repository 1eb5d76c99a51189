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
];

export function ruleMeta(id: string): RuleMeta | undefined {
  return RULES.find((r) => r.id === id);
}
