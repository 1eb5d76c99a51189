/**
 * Interprocedural function summaries: net lock effect (relative to parameters:
 * `$0.lock` is the `lock` field of the first argument), annotations, whether the
 * function may sleep. Plain data so they cross worker threads and caches.
 * Same-file summaries are computed inside analyzeFile; the CLI passes summaries
 * of functions defined in headers and other files as `knowledge`.
 */
import type { Catalog, LockKind } from '../catalog/index';
import type { CParser } from '../parse/parser';
import { parseKernelC } from '../parse/source';
import { analyzeFunctions } from '../analysis/locks';

export interface LockEffect {
  /** Key relative to the parameters (`$0.lock`, `*$1`) or a global's key (`dev_list_lock`). */
  lock: string;
  kind: LockKind | 'unknown';
  /** Lock class (struct type + field) when known, else the key. */
  cls: string;
  mode?: 'read' | 'write';
}

export interface FunctionSummary {
  name: string;
  file: string;
  line: number;
  /** Parameter names in order. */
  params: string[];
  /** A definition (true) or an annotated prototype (false). */
  definition: boolean;
  /** Locks held on return on every path (lock wrappers, `__acquires`). */
  acquires: LockEffect[];
  /** Locks held on entry and released on every path (unlock wrappers, `__releases`). */
  releases: LockEffect[];
  /** Locks held on return on some paths only (conditional lock functions, `__cond_acquires`). */
  condAcquires: LockEffect[];
  /** Locks that must be held on entry (`__must_hold`, `lockdep_assert_held`). */
  mustHold: LockEffect[];
  /** Annotation arguments as written. */
  annotations: { acquires: string[]; releases: string[]; mustHold: string[]; condAcquires: string[] };
  /** The function may sleep (directly or through a callee's summary) outside any atomic section of its own. */
  maySleep: boolean;
  /** Why it may sleep, e.g. `msleep` or `kmalloc(GFP_KERNEL)`. */
  sleepReason?: string;
  /**
   * It sleeps only after releasing a lock (or atomic section) its caller holds:
   * `xlog_wait(wq, lock)`, `ptrace_stop()`, `cond_resched_rcu()`. Calling it in
   * atomic context is the intended use, not a sleep-in-atomic.
   */
  sleepDropsLock?: boolean;
  /**
   * Lock classes the function acquires somewhere (and may release again), directly
   * or through callees' summaries: what a caller holding another lock orders
   * before them (lock-order-inversion). Only classes with an identity (struct
   * type + field, or a global); trylocks are not listed. Capped.
   */
  takes?: LockTake[];
}

/** One lock class a function takes (see FunctionSummary.takes). */
export interface LockTake {
  cls: string;
  kind: LockKind | 'unknown';
  /** Read side of a lock whose readers nest (rwlock_t read_lock): cannot block another reader. */
  shared?: boolean;
  /** Where it is taken: the acquire itself, possibly in a callee of this function. */
  file: string;
  line: number;
  /** Call chain from the summarised function to the acquire (`helper() -> mutex_lock`). */
  via: string;
  /**
   * Taken after the function released a lock its caller holds (and usually
   * retakes it after: `unlock(caller's); wait; lock(x); lock(caller's)`), or only
   * on paths a by-value parameter chooses (`if (lock) mutex_lock(...)`): no order
   * against the caller's locks can be derived.
   */
  afterRelease?: boolean;
}

/** Summaries of every function definition (including `static inline` in headers) and annotated prototype in a file. */
export function summarizeFile(parser: CParser, text: string, file: string, catalog: Catalog): FunctionSummary[] {
  const parsed = parseKernelC(parser, text);
  try {
    return analyzeFunctions(parsed, file, catalog, undefined, false).summaries;
  } finally {
    parsed.dispose();
  }
}
