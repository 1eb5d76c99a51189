/**
 * The primitive catalog: what kernel locking, atomic-context, sleeping, noreturn
 * and cleanup primitives mean, as plain data (JSON-serialisable, so a resolved
 * catalog crosses worker threads). Rules and the dataflow read this; they never
 * hard-code primitive names.
 *
 * Users extend it with a `.refscope.json` at the workspace root. Schema (every
 * key optional, unknown keys are an error):
 * {
 *   "locks": [ { "acquire": "my_lock", "release": "my_unlock",
 *                "kind": "mutex"|"spinlock"|"rwlock"|"rwsem"|"semaphore"|"seqlock"|"local_lock"|"rcu"|"srcu"|"preempt"|"irq"|"bh",
 *                "lockArg": 0,              // index of the lock argument; -1 for a global context (rcu, preempt...)
 *                "mode": "read"|"write",    // optional, rwlock/rwsem read side may nest for rwlock
 *                "trylock": false,          // optional: acquire returns non-zero on success
 *                "interruptible": false } ],// optional: acquire returns 0 on success
 *   "sleeping": [ "my_wait_for_hw" ],       // functions that may sleep
 *   "noreturn": [ "my_fatal" ],             // functions that never return
 *   "atomic": [ { "enter": "my_irq_off", "exit": "my_irq_on" } ] // atomic-context makers without a lock argument
 * }
 */

export type LockKind =
  | 'mutex' | 'spinlock' | 'rwlock' | 'rwsem' | 'semaphore' | 'seqlock' | 'local_lock'
  | 'rcu' | 'srcu' | 'preempt' | 'irq' | 'bh';

export const LOCK_KINDS: readonly LockKind[] = [
  'mutex', 'spinlock', 'rwlock', 'rwsem', 'semaphore', 'seqlock', 'local_lock', 'rcu', 'srcu', 'preempt', 'irq', 'bh',
];

/** Kinds checked by lock-leak / double-lock / unlock-unheld (real locks with an identity). */
export const CHECKED_KINDS: readonly LockKind[] = ['mutex', 'spinlock', 'rwlock', 'rwsem', 'seqlock', 'local_lock'];
/** Kinds whose hold makes the context atomic (sleeping is a bug). */
export const ATOMIC_KINDS: readonly LockKind[] = ['spinlock', 'rwlock', 'seqlock', 'local_lock', 'rcu', 'preempt', 'irq', 'bh'];

export interface LockOp {
  name: string;
  op: 'acquire' | 'release';
  kind: LockKind;
  /** Index of the lock argument, or -1 for a context without identity (rcu, preempt, irq, bh). */
  lockArg: number;
  mode?: 'read' | 'write';
  /**
   * Conditional acquire: `nonzero` = returns non-zero with the lock held (trylock,
   * *_dec_and_lock); `zero` = returns 0 with the lock held (*_interruptible, *_killable).
   */
  cond?: 'nonzero' | 'zero';
  /**
   * The one lock this op always works on, for a lock with an identity but no
   * argument (`rtnl_lock()` is `mutex_lock(&rtnl_mutex)`); with `lockArg` -1.
   */
  global?: string;
}

/** `guard(T)(args)` / `scoped_guard(T, args)` lock types. */
export interface GuardType {
  type: string;
  kind: LockKind;
  mode?: 'read' | 'write';
  /** Conditional guard types (`mutex_intr`, `spinlock_try`...): we do not model the condition. */
  conditional?: boolean;
}

/**
 * A call that sleeps unless the object it works on was set up by `start` with
 * `atomicFlag` among its flags: `sg_miter_next(&miter)` maps pages with kmap()
 * (may sleep) unless `sg_miter_start(&miter, sgl, nents, SG_MITER_ATOMIC | ...)`
 * chose kmap_atomic().
 */
export interface FlagGatedSleeper {
  name: string;
  /** Index of the object argument (`&miter`). */
  objectArg: number;
  /** The call that sets the object up, its object argument and its flags argument. */
  start: string;
  startObjectArg: number;
  startFlagsArg: number;
  atomicFlag: string;
}

export interface GfpCall {
  name: string;
  /** Index of the gfp_t argument. */
  gfpArg: number;
}

export interface Catalog {
  lockOps: LockOp[];
  guards: GuardType[];
  /** Functions that may sleep regardless of their arguments. */
  sleeping: string[];
  /** Regular-expression sources matched against callee names (anchored by the pattern itself). */
  sleepingPatterns: string[];
  /** Allocation-style calls that sleep iff their gfp argument allows direct reclaim. */
  gfpCalls: GfpCall[];
  /** GFP flag identifiers that allow sleeping. */
  gfpSleeping: string[];
  /** GFP flag identifiers that never sleep (an expression containing one is atomic). */
  gfpAtomic: string[];
  flagGatedSleepers: FlagGatedSleeper[];
  noreturn: string[];
  /** Annotation macros in declarations. */
  annotations: { acquires: string[]; releases: string[]; mustHold: string[]; condAcquires: string[] };
  /** Calls asserting the lock (first argument) is held on entry. */
  assertHeld: string[];
  /** Calls marking the function as possibly sleeping (might_sleep). */
  mightSleep: string[];
  /** Cleanup-attribute macros (`__free(f)`, `__cleanup(f)`). */
  cleanupAttributes: string[];
}

function ops(kind: LockKind, acquire: string[], release: string[], lockArg = 0, extra: Partial<LockOp> = {}): LockOp[] {
  return [
    ...acquire.map((name): LockOp => ({ name, op: 'acquire', kind, lockArg, ...extra })),
    ...release.map((name): LockOp => ({ name, op: 'release', kind, lockArg, ...extra })),
  ];
}

function cond(kind: LockKind, names: string[], c: 'nonzero' | 'zero', lockArg = 0, mode?: 'read' | 'write'): LockOp[] {
  return names.map((name): LockOp => ({ name, op: 'acquire', kind, lockArg, cond: c, ...(mode ? { mode } : {}) }));
}

export function builtinCatalog(): Catalog {
  const lockOps: LockOp[] = [
    ...ops('mutex', ['mutex_lock', 'mutex_lock_nested', 'mutex_lock_io', 'mutex_lock_io_nested', 'mutex_lock_nest_lock'], ['mutex_unlock']),
    ...cond('mutex', ['mutex_lock_interruptible', 'mutex_lock_killable', 'mutex_lock_interruptible_nested', 'mutex_lock_killable_nested'], 'zero'),
    ...cond('mutex', ['mutex_trylock', 'mutex_trylock_nested'], 'nonzero'),
    ...cond('mutex', ['atomic_dec_and_mutex_lock', 'refcount_dec_and_mutex_lock'], 'nonzero', 1),
    ...ops('spinlock', ['spin_lock', 'spin_lock_nested', 'spin_lock_irq', 'spin_lock_irqsave', 'spin_lock_irqsave_nested', 'spin_lock_bh',
      'spin_lock_nest_lock', 'raw_spin_lock', 'raw_spin_lock_nested', 'raw_spin_lock_irq', 'raw_spin_lock_irqsave', 'raw_spin_lock_irqsave_nested', 'raw_spin_lock_bh'],
    ['spin_unlock', 'spin_unlock_irq', 'spin_unlock_irqrestore', 'spin_unlock_bh', 'raw_spin_unlock', 'raw_spin_unlock_irq', 'raw_spin_unlock_irqrestore', 'raw_spin_unlock_bh']),
    ...cond('spinlock', ['spin_trylock', 'spin_trylock_irq', 'spin_trylock_irqsave', 'spin_trylock_bh', 'raw_spin_trylock', 'raw_spin_trylock_irq', 'raw_spin_trylock_irqsave', 'raw_spin_trylock_bh'], 'nonzero'),
    ...cond('spinlock', ['atomic_dec_and_lock', 'atomic_dec_and_lock_irqsave', 'refcount_dec_and_lock', 'refcount_dec_and_lock_irqsave', 'atomic_dec_and_raw_lock', 'atomic_dec_and_raw_lock_irqsave', 'refcount_dec_and_raw_lock'], 'nonzero', 1),
    ...ops('rwlock', ['read_lock', 'read_lock_irq', 'read_lock_irqsave', 'read_lock_bh'], ['read_unlock', 'read_unlock_irq', 'read_unlock_irqrestore', 'read_unlock_bh'], 0, { mode: 'read' }),
    ...ops('rwlock', ['write_lock', 'write_lock_irq', 'write_lock_irqsave', 'write_lock_bh', 'write_lock_nested'], ['write_unlock', 'write_unlock_irq', 'write_unlock_irqrestore', 'write_unlock_bh'], 0, { mode: 'write' }),
    ...cond('rwlock', ['read_trylock'], 'nonzero', 0, 'read'),
    ...cond('rwlock', ['write_trylock', 'write_trylock_irqsave'], 'nonzero', 0, 'write'),
    ...ops('rwsem', ['down_read', 'down_read_nested', 'down_read_non_owner'], ['up_read', 'up_read_non_owner'], 0, { mode: 'read' }),
    ...cond('rwsem', ['down_read_interruptible', 'down_read_killable', 'down_read_killable_nested'], 'zero', 0, 'read'),
    ...cond('rwsem', ['down_read_trylock'], 'nonzero', 0, 'read'),
    ...ops('rwsem', ['down_write', 'down_write_nested', 'down_write_nest_lock'], ['up_write'], 0, { mode: 'write' }),
    ...cond('rwsem', ['down_write_killable', 'down_write_killable_nested'], 'zero', 0, 'write'),
    ...cond('rwsem', ['down_write_trylock'], 'nonzero', 0, 'write'),
    ...ops('semaphore', ['down'], ['up']),
    ...cond('semaphore', ['down_interruptible', 'down_killable', 'down_timeout'], 'zero'),
    ...cond('semaphore', ['down_trylock'], 'zero'),
    ...ops('seqlock', ['write_seqlock', 'write_seqlock_irq', 'write_seqlock_irqsave', 'write_seqlock_bh'], ['write_sequnlock', 'write_sequnlock_irq', 'write_sequnlock_irqrestore', 'write_sequnlock_bh']),
    ...ops('local_lock', ['local_lock', 'local_lock_irq', 'local_lock_irqsave'], ['local_unlock', 'local_unlock_irq', 'local_unlock_irqrestore']),
    ...ops('rcu', ['rcu_read_lock', 'rcu_read_lock_bh', 'rcu_read_lock_sched', 'rcu_read_lock_sched_notrace'], ['rcu_read_unlock', 'rcu_read_unlock_bh', 'rcu_read_unlock_sched', 'rcu_read_unlock_sched_notrace'], -1),
    ...ops('srcu', ['srcu_read_lock'], ['srcu_read_unlock']),
    ...ops('preempt', ['preempt_disable', 'preempt_disable_notrace', 'get_cpu', 'migrate_disable_never'], ['preempt_enable', 'preempt_enable_notrace', 'preempt_enable_no_resched', 'sched_preempt_enable_no_resched', 'put_cpu'], -1),
    ...ops('irq', ['local_irq_disable', 'local_irq_save'], ['local_irq_enable', 'local_irq_restore'], -1),
    ...ops('bh', ['local_bh_disable'], ['local_bh_enable'], -1),
    // The networking core's RTNL: rtnl_unlock() is netdev_run_todo(), which releases it in another
    // file and then retakes and drops it in a loop, beyond what one level of cross-file summaries
    // follows; as primitives every caller sees the pair (149 of 198 whole-tree double-lock
    // findings were this).
    ...ops('mutex', ['rtnl_lock'], ['rtnl_unlock', '__rtnl_unlock'], -1, { global: '&rtnl_mutex' }),
    ...cond('mutex', ['rtnl_lock_interruptible', 'rtnl_lock_killable'], 'zero', -1).map((o) => ({ ...o, global: '&rtnl_mutex' })),
    ...cond('mutex', ['rtnl_trylock'], 'nonzero', -1).map((o) => ({ ...o, global: '&rtnl_mutex' })),
  ];
  const guards: GuardType[] = [
    { type: 'mutex', kind: 'mutex' },
    { type: 'mutex_intr', kind: 'mutex', conditional: true },
    { type: 'mutex_try', kind: 'mutex', conditional: true },
    { type: 'spinlock', kind: 'spinlock' },
    { type: 'spinlock_irq', kind: 'spinlock' },
    { type: 'spinlock_irqsave', kind: 'spinlock' },
    { type: 'spinlock_bh', kind: 'spinlock' },
    { type: 'spinlock_try', kind: 'spinlock', conditional: true },
    { type: 'spinlock_irqsave_try', kind: 'spinlock', conditional: true },
    { type: 'raw_spinlock', kind: 'spinlock' },
    { type: 'raw_spinlock_irq', kind: 'spinlock' },
    { type: 'raw_spinlock_irqsave', kind: 'spinlock' },
    { type: 'read_lock', kind: 'rwlock', mode: 'read' },
    { type: 'read_lock_irq', kind: 'rwlock', mode: 'read' },
    { type: 'read_lock_irqsave', kind: 'rwlock', mode: 'read' },
    { type: 'write_lock', kind: 'rwlock', mode: 'write' },
    { type: 'write_lock_irq', kind: 'rwlock', mode: 'write' },
    { type: 'write_lock_irqsave', kind: 'rwlock', mode: 'write' },
    { type: 'rwsem_read', kind: 'rwsem', mode: 'read' },
    { type: 'rwsem_read_intr', kind: 'rwsem', mode: 'read', conditional: true },
    { type: 'rwsem_write', kind: 'rwsem', mode: 'write' },
    { type: 'rwsem_write_kill', kind: 'rwsem', mode: 'write', conditional: true },
    { type: 'rcu', kind: 'rcu' },
    { type: 'srcu', kind: 'srcu' },
    { type: 'preempt', kind: 'preempt' },
    { type: 'preempt_notrace', kind: 'preempt' },
    { type: 'irq', kind: 'irq' },
    { type: 'irqsave', kind: 'irq' },
    { type: 'local_lock', kind: 'local_lock' },
    { type: 'local_lock_irq', kind: 'local_lock' },
    { type: 'local_lock_irqsave', kind: 'local_lock' },
  ];
  return {
    lockOps,
    guards,
    sleeping: [
      'might_sleep', 'cond_resched', 'msleep', 'msleep_interruptible', 'ssleep', 'usleep_range', 'usleep_range_state', 'usleep_idle_range',
      'schedule', 'schedule_timeout', 'schedule_timeout_interruptible', 'schedule_timeout_killable', 'schedule_timeout_uninterruptible',
      'schedule_timeout_idle', 'schedule_hrtimeout', 'schedule_hrtimeout_range', 'io_schedule', 'io_schedule_timeout', 'yield',
      'synchronize_rcu', 'synchronize_rcu_expedited', 'synchronize_srcu', 'synchronize_srcu_expedited', 'synchronize_net', 'rcu_barrier', 'synchronize_irq',
      'flush_work', 'flush_delayed_work', 'flush_workqueue', 'drain_workqueue', 'destroy_workqueue', 'flush_scheduled_work', 'kthread_stop', 'kthread_park',
      'copy_from_user', 'copy_to_user', 'get_user', 'put_user', 'clear_user', 'strncpy_from_user', 'memdup_user', 'vmemdup_user', 'strndup_user',
      'vmalloc', 'vzalloc', 'vmalloc_user', 'vmap', 'vunmap',
      'mutex_lock', 'mutex_lock_nested', 'mutex_lock_io', 'mutex_lock_interruptible', 'mutex_lock_killable', 'mutex_lock_interruptible_nested', 'mutex_lock_killable_nested',
      'down', 'down_interruptible', 'down_killable', 'down_timeout', 'down_read', 'down_read_nested', 'down_read_interruptible', 'down_read_killable',
      'down_write', 'down_write_nested', 'down_write_killable',
      'request_firmware', 'request_threaded_irq', 'free_irq', 'kthread_create', 'wait_on_bit', 'wait_on_page_locked',
      'refcount_dec_and_mutex_lock', 'atomic_dec_and_mutex_lock',
    ],
    sleepingPatterns: [
      '^wait_event(?!.*lock_irq)(?!.*_locked)(_[a-z_]+)?$',
      '^wait_for_completion(_[a-z_]+)?$',
      '^cancel_(delayed_)?work_sync$',
      '^cancel_[a-z_]*_sync$',
    ],
    gfpCalls: [
      ['kmalloc', 1], ['kzalloc', 1], ['kcalloc', 2], ['kmalloc_array', 2], ['kmalloc_node', 1], ['kzalloc_node', 1], ['kcalloc_node', 2],
      ['kmalloc_array_node', 2], ['kmem_cache_alloc', 1], ['kmem_cache_zalloc', 1], ['kmem_cache_alloc_node', 1], ['krealloc', 2],
      ['krealloc_array', 3], ['kstrdup', 1], ['kstrndup', 2], ['kstrdup_const', 1], ['kmemdup', 2], ['kmemdup_nul', 2], ['kvmalloc', 1], ['kvzalloc', 1],
      ['kvcalloc', 2], ['kvmalloc_array', 2], ['kvrealloc', 2], ['alloc_pages', 0], ['alloc_page', 0], ['__get_free_pages', 0], ['__get_free_page', 0],
      ['get_zeroed_page', 0], ['devm_kmalloc', 2], ['devm_kzalloc', 2], ['devm_kcalloc', 3], ['devm_kmalloc_array', 3], ['devm_kstrdup', 2],
      ['kasprintf', 0], ['kvasprintf', 0], ['idr_alloc', 4], ['idr_alloc_cyclic', 4], ['ida_alloc', 1], ['sg_alloc_table', 2],
      ['dma_alloc_coherent', 3], ['dma_alloc_wc', 3], ['mempool_alloc', 1], ['alloc_workqueue_attrs', 0], ['xa_store', 3], ['xa_alloc', 4],
      ['radix_tree_preload', 0], ['dma_fence_wait_timeout', -1],
    ].filter((e) => (e[1] as number) >= 0).map(([name, gfpArg]) => ({ name: name as string, gfpArg: gfpArg as number })),
    gfpSleeping: [
      'GFP_KERNEL', 'GFP_KERNEL_ACCOUNT', 'GFP_NOFS', 'GFP_NOIO', 'GFP_USER', 'GFP_HIGHUSER', 'GFP_HIGHUSER_MOVABLE', 'GFP_TRANSHUGE',
      'GFP_TRANSHUGE_LIGHT', '__GFP_DIRECT_RECLAIM', '__GFP_RECLAIM',
    ],
    gfpAtomic: ['GFP_ATOMIC', 'GFP_NOWAIT', 'GFP_DMA_ATOMIC', '__GFP_HIGH', '__GFP_ATOMIC'],
    flagGatedSleepers: ['sg_miter_next', 'sg_miter_stop', 'sg_miter_skip'].map((name) => ({
      name, objectArg: 0, start: 'sg_miter_start', startObjectArg: 0, startFlagsArg: 3, atomicFlag: 'SG_MITER_ATOMIC',
    })),
    noreturn: [
      'BUG', 'panic', 'do_exit', 'kthread_exit', 'make_task_dead', 'kthread_complete_and_exit', 'complete_and_exit', 'machine_halt',
      'machine_power_off', 'machine_restart', 'emergency_restart', '__noreturn_stub', 'unreachable', '__builtin_unreachable', 'abort',
    ],
    annotations: {
      acquires: ['__acquires'],
      releases: ['__releases'],
      mustHold: ['__must_hold'],
      condAcquires: ['__cond_acquires', '__cond_acquires_shared'],
    },
    assertHeld: [
      'lockdep_assert_held', 'lockdep_assert_held_write', 'lockdep_assert_held_read', 'lockdep_assert_held_once', 'lockdep_assert',
      'assert_spin_locked', 'assert_raw_spin_locked', 'WARN_ON_ONCE_assert_held', 'dma_resv_assert_held', 'drm_modeset_lock_assert_held',
    ],
    mightSleep: ['might_sleep', 'might_sleep_if'],
    cleanupAttributes: ['__free', '__cleanup'],
  };
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function isObject(v: Json | undefined): v is { [k: string]: Json } {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function checkKeys(obj: { [k: string]: Json }, allowed: string[], where: string, source: string): void {
  for (const k of Object.keys(obj)) {
    if (!allowed.includes(k)) throw new ConfigError(`${source}: unknown key "${k}" in ${where} (allowed: ${allowed.join(', ')})`);
  }
}

function identifierList(v: Json | undefined, where: string, source: string): string[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw new ConfigError(`${source}: "${where}" must be an array of function names`);
  return v.map((e, i) => {
    if (typeof e !== 'string' || !/^[A-Za-z_]\w*$/.test(e)) throw new ConfigError(`${source}: "${where}[${i}]" must be a C identifier`);
    return e;
  });
}

function identifier(v: Json | undefined, where: string, source: string): string {
  if (typeof v !== 'string' || !/^[A-Za-z_]\w*$/.test(v)) throw new ConfigError(`${source}: "${where}" must be a C identifier`);
  return v;
}

/**
 * Parse and validate a `.refscope.json` text (schema in this file's header) and
 * merge it with the built-ins, or with `base` (a catalog already extended by
 * another source: the editor layers the user's settings and the workspace file).
 * Pure data: nothing in the text is executed.
 */
export function catalogWithUserConfig(jsonText: string, source: string, base?: Catalog): Catalog {
  let root: Json;
  try {
    root = JSON.parse(jsonText) as Json;
  } catch (e) {
    throw new ConfigError(`${source}: invalid JSON (${(e as Error).message.split('\n')[0]})`);
  }
  if (!isObject(root)) throw new ConfigError(`${source}: the top level must be a JSON object`);
  checkKeys(root, ['$schema', 'locks', 'sleeping', 'noreturn', 'atomic'], 'the top level', source);
  const cat: Catalog = base ? (JSON.parse(JSON.stringify(base)) as Catalog) : builtinCatalog();
  const locks = root['locks'];
  if (locks !== undefined) {
    if (!Array.isArray(locks)) throw new ConfigError(`${source}: "locks" must be an array`);
    locks.forEach((l, i) => {
      const where = `locks[${i}]`;
      if (!isObject(l)) throw new ConfigError(`${source}: "${where}" must be an object`);
      checkKeys(l, ['acquire', 'release', 'kind', 'lockArg', 'mode', 'trylock', 'interruptible'], `"${where}"`, source);
      const acquire = identifier(l['acquire'], `${where}.acquire`, source);
      const release = l['release'] === undefined ? undefined : identifier(l['release'], `${where}.release`, source);
      const kindV = l['kind'] ?? 'mutex';
      if (typeof kindV !== 'string' || !(LOCK_KINDS as readonly string[]).includes(kindV)) {
        throw new ConfigError(`${source}: "${where}.kind" must be one of ${LOCK_KINDS.join(', ')}`);
      }
      const kind = kindV as LockKind;
      const lockArgV = l['lockArg'] ?? 0;
      if (typeof lockArgV !== 'number' || !Number.isInteger(lockArgV) || lockArgV < -1 || lockArgV > 16) {
        throw new ConfigError(`${source}: "${where}.lockArg" must be an integer from -1 to 16`);
      }
      const modeV = l['mode'];
      if (modeV !== undefined && modeV !== 'read' && modeV !== 'write') throw new ConfigError(`${source}: "${where}.mode" must be "read" or "write"`);
      for (const b of ['trylock', 'interruptible']) {
        if (l[b] !== undefined && typeof l[b] !== 'boolean') throw new ConfigError(`${source}: "${where}.${b}" must be true or false`);
      }
      if (l['trylock'] === true && l['interruptible'] === true) throw new ConfigError(`${source}: "${where}" cannot be both trylock and interruptible`);
      const c: LockOp['cond'] = l['trylock'] === true ? 'nonzero' : l['interruptible'] === true ? 'zero' : undefined;
      const base: Omit<LockOp, 'name' | 'op'> = { kind, lockArg: lockArgV, ...(modeV ? { mode: modeV as 'read' | 'write' } : {}) };
      cat.lockOps = cat.lockOps.filter((o) => o.name !== acquire && o.name !== release);
      cat.lockOps.push({ name: acquire, op: 'acquire', ...base, ...(c ? { cond: c } : {}) });
      if (release) cat.lockOps.push({ name: release, op: 'release', ...base });
    });
  }
  cat.sleeping.push(...identifierList(root['sleeping'], 'sleeping', source));
  cat.noreturn.push(...identifierList(root['noreturn'], 'noreturn', source));
  const atomic = root['atomic'];
  if (atomic !== undefined) {
    if (!Array.isArray(atomic)) throw new ConfigError(`${source}: "atomic" must be an array`);
    atomic.forEach((a, i) => {
      const where = `atomic[${i}]`;
      if (!isObject(a)) throw new ConfigError(`${source}: "${where}" must be an object`);
      checkKeys(a, ['enter', 'exit'], `"${where}"`, source);
      const enter = identifier(a['enter'], `${where}.enter`, source);
      cat.lockOps.push({ name: enter, op: 'acquire', kind: 'preempt', lockArg: -1 });
      if (a['exit'] !== undefined) cat.lockOps.push({ name: identifier(a['exit'], `${where}.exit`, source), op: 'release', kind: 'preempt', lockArg: -1 });
    });
  }
  return cat;
}

/** Fast lookup tables derived from a catalog (not serialised; rebuild per thread). */
export interface CatalogIndex {
  catalog: Catalog;
  lockOps: Map<string, LockOp>;
  guards: Map<string, GuardType>;
  sleeping: Set<string>;
  sleepingRe: RegExp | null;
  gfpCalls: Map<string, number>;
  gfpSleeping: Set<string>;
  gfpAtomic: Set<string>;
  flagGated: Map<string, FlagGatedSleeper>;
  noreturn: Set<string>;
  assertHeld: Set<string>;
  annotations: Map<string, 'acquires' | 'releases' | 'mustHold' | 'condAcquires'>;
}

const indexCache = new WeakMap<Catalog, CatalogIndex>();

export function indexCatalog(catalog: Catalog): CatalogIndex {
  const cached = indexCache.get(catalog);
  if (cached) return cached;
  const annotations = new Map<string, 'acquires' | 'releases' | 'mustHold' | 'condAcquires'>();
  for (const k of ['acquires', 'releases', 'mustHold', 'condAcquires'] as const) for (const n of catalog.annotations[k]) annotations.set(n, k);
  const idx: CatalogIndex = {
    catalog,
    lockOps: new Map(catalog.lockOps.map((o) => [o.name, o])),
    guards: new Map(catalog.guards.map((g) => [g.type, g])),
    sleeping: new Set(catalog.sleeping),
    sleepingRe: catalog.sleepingPatterns.length ? new RegExp(catalog.sleepingPatterns.map((p) => `(?:${p})`).join('|')) : null,
    gfpCalls: new Map(catalog.gfpCalls.map((g) => [g.name, g.gfpArg])),
    gfpSleeping: new Set(catalog.gfpSleeping),
    gfpAtomic: new Set(catalog.gfpAtomic),
    flagGated: new Map((catalog.flagGatedSleepers ?? []).map((f) => [f.name, f])),
    noreturn: new Set(catalog.noreturn),
    assertHeld: new Set(catalog.assertHeld),
    annotations,
  };
  indexCache.set(catalog, idx);
  return idx;
}

/** Does a gfp argument expression (as written) allow sleeping? `undefined` when not statically known. */
export function gfpMaySleep(idx: CatalogIndex, expr: string): boolean | undefined {
  if (expr.includes('~')) return undefined;
  const ids = expr.match(/[A-Za-z_]\w*/g) ?? [];
  if (ids.some((i) => idx.gfpAtomic.has(i))) return false;
  if (ids.some((i) => idx.gfpSleeping.has(i))) return true;
  return undefined;
}

export function isSleepingName(idx: CatalogIndex, name: string): boolean {
  return idx.sleeping.has(name) || (idx.sleepingRe !== null && idx.sleepingRe.test(name));
}

/**
 * Where in the config text a ConfigError points (UTF-16 offsets, for an editor
 * diagnostic): the JSON parser's position, else the key the message names (for
 * a path such as `locks[1].kind`, the first `"kind"` after `"locks"`: a text
 * search, not a JSON walk), else the first line.
 */
export function configErrorRange(text: string, message: string): { start: number; end: number } {
  const firstLine = { start: 0, end: Math.max(1, text.indexOf('\n') < 0 ? text.length : text.indexOf('\n')) };
  const pos = /at position (\d+)/.exec(message);
  if (pos) {
    const at = Math.min(Number(pos[1]), Math.max(0, text.length - 1));
    return { start: at, end: Math.min(text.length, at + 1) || at };
  }
  const key = /unknown key "([^"]+)"/.exec(message)?.[1];
  const where = /"([A-Za-z$][\w$]*)(?:\[\d+\])?(?:\.([A-Za-z$][\w$]*))?(?:\[\d+\])?"/.exec(message);
  const names = key ? [key] : where ? [where[1]!, ...(where[2] ? [where[2]] : [])] : [];
  let from = 0;
  let hit: { start: number; end: number } | undefined;
  for (const n of names) {
    const i = text.indexOf(`"${n}"`, from);
    if (i < 0) break;
    hit = { start: i, end: i + n.length + 2 };
    from = hit.end;
  }
  return hit ?? firstLine;
}

/** One layer of catalog extensions (a settings value or a file's text) and its display name. */
export interface CatalogSource {
  text: string;
  source: string;
}

/** A layer that did not validate: skipped, the others (and the built-ins) stay in force. */
export interface CatalogSourceError {
  source: string;
  message: string;
  range: { start: number; end: number };
}

/** The built-ins extended by each valid source in order; the invalid ones are reported, never fatal. */
export function layeredCatalog(sources: readonly CatalogSource[]): { catalog: Catalog; errors: CatalogSourceError[] } {
  let catalog = builtinCatalog();
  const errors: CatalogSourceError[] = [];
  for (const s of sources) {
    try {
      catalog = catalogWithUserConfig(s.text, s.source, catalog);
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      errors.push({ source: s.source, message, range: configErrorRange(s.text, message) });
    }
  }
  return { catalog, errors };
}

/** What the editor found for each layer of primitives (raw setting values, the file's text). */
export interface PrimitiveInputs {
  /** The user's `refscope.primitives` value (always applies). */
  user?: unknown;
  /** A workspace (or folder) value of `refscope.primitives`: provided by the workspace. */
  workspace?: unknown;
  /** Text of `.refscope.json` at the workspace root, undefined when there is none. */
  file?: string;
  /** The file's display name. */
  fileName?: string;
  /** Workspace trust: in restricted mode the workspace's layers are ignored. */
  trusted: boolean;
}

/**
 * The catalog layers in force, in order (user setting, workspace setting,
 * `.refscope.json`), and the workspace layers ignored because the workspace is
 * not trusted. Empty setting objects are no layer.
 */
export function primitiveLayers(p: PrimitiveInputs): { sources: CatalogSource[]; ignored: string[] } {
  const sources: CatalogSource[] = [];
  const ignored: string[] = [];
  const nonEmpty = (v: unknown): boolean => typeof v === 'object' && v !== null && Object.keys(v).length > 0;
  if (nonEmpty(p.user)) sources.push({ text: JSON.stringify(p.user), source: 'settings (user): refscope.primitives' });
  const workspace: CatalogSource[] = [];
  if (nonEmpty(p.workspace)) workspace.push({ text: JSON.stringify(p.workspace), source: 'settings (workspace): refscope.primitives' });
  if (p.file !== undefined) workspace.push({ text: p.file, source: p.fileName ?? '.refscope.json' });
  if (p.trusted) sources.push(...workspace);
  else ignored.push(...workspace.map((s) => s.source));
  return { sources, ignored };
}
