/**
 * Plain-data types of the lifecycle simulator: the compiled model (thread
 * programs over one op vocabulary, every op carrying its source location) and
 * the explorer's results. Scenario files and (later) real function bodies are
 * both compiled to `SimModel`.
 */

/** Exact violation kind ids. */
export const VIOLATION_KINDS = [
  'use-after-free',
  'increment-from-zero',
  'underflow',
  'double-free',
  'double-call-rcu',
  'deadlock',
  'leaked-reference',
  'lock-held-at-exit',
  'unlock-unheld',
  'sleep-in-atomic',
] as const;
export type ViolationKind = (typeof VIOLATION_KINDS)[number];

export function isViolationKind(s: string): s is ViolationKind {
  return (VIOLATION_KINDS as readonly string[]).includes(s);
}

/** Where an op comes from. */
export interface SimSource {
  file: string;
  line: number;
  column: number;
  /** The source text of the operation (one line, as the user wrote it). */
  text: string;
}

/**
 * A variable reference inside a program: `>= 0` is a slot in the actor's own
 * frame, `< 0` is global `-(ref + 1)`.
 */
export type VarRef = number;

export type LockKind = 'mutex' | 'spinlock' | 'rwlock' | 'rwsem';
export type StructKind = 'list' | 'hlist' | 'idr' | 'xarray' | 'hash';

export interface LockDecl {
  name: string;
  kind: LockKind;
}

export interface StructDecl {
  name: string;
  kind: StructKind;
  /** The structure owns a reference on every object it holds (leak accounting). */
  holdsRef: boolean;
}

export interface GlobalDecl {
  name: string;
  /** The pointer owns a reference while it is non-NULL (leak accounting). */
  holdsRef: boolean;
}

/** An allocation site: objects are identified by the site that allocated them. */
export interface ObjectSite {
  name: string;
  src: SimSource;
}

/** Operand of `assign` / comparisons: a variable or a constant (NULL = -1). */
export type Operand = { var: VarRef } | { const: number };

export type Instr =
  | { op: 'nop'; next: number; src: SimSource }
  | { op: 'choice'; next: number; alt: number; src: SimSource }
  | { op: 'test'; a: Operand; cmp: '!=0' | '==0' | '<0' | '>=0' | '==' | '!='; b?: Operand; next: number; alt: number; src: SimSource }
  | { op: 'assign'; dst: VarRef; value: Operand; next: number; src: SimSource }
  | { op: 'alloc'; dst: VarRef; site: number; sleeps: boolean; next: number; src: SimSource }
  | { op: 'set'; obj: VarRef; value: number; next: number; src: SimSource }
  /** raw: atomic_t, which (unlike kref/refcount_t) lets a zero count be incremented silently. */
  | { op: 'inc'; obj: VarRef; raw?: boolean; next: number; src: SimSource }
  /** get_unless_zero: `next` on success, `alt` when the count was zero. */
  | { op: 'inc_not_zero'; obj: VarRef; dst?: VarRef; next: number; alt: number; src: SimSource }
  | { op: 'dec'; obj: VarRef; next: number; src: SimSource }
  /** dec_and_test: `next` when the count reached zero (object becomes released), `alt` otherwise. */
  | { op: 'dec_and_test'; obj: VarRef; dst?: VarRef; next: number; alt: number; src: SimSource }
  /** refcount_dec_not_one: decrement unless the count is 1; `next` when decremented, `alt` when it was 1. */
  | { op: 'dec_not_one'; obj: VarRef; dst?: VarRef; next: number; alt: number; src: SimSource }
  | { op: 'access'; obj: VarRef; write: boolean; next: number; src: SimSource }
  | { op: 'free'; obj: VarRef; next: number; src: SimSource }
  | { op: 'call_rcu'; obj: VarRef; cb: number; next: number; src: SimSource }
  | { op: 'rcu_lock'; next: number; src: SimSource }
  | { op: 'rcu_unlock'; next: number; src: SimSource }
  | { op: 'sync_rcu'; next: number; src: SimSource }
  | { op: 'rcu_barrier'; next: number; src: SimSource }
  | { op: 'lock'; lock: number; mode: 'r' | 'w'; next: number; src: SimSource }
  /** trylock / *_interruptible: `next` when acquired, `alt` when not. */
  | { op: 'trylock'; lock: number; mode: 'r' | 'w'; interruptible: boolean; dst?: VarRef; next: number; alt: number; src: SimSource }
  | { op: 'unlock'; lock: number; mode: 'r' | 'w'; next: number; src: SimSource }
  | { op: 'publish'; struct: number; key: string; obj: VarRef; field: string; next: number; src: SimSource }
  | { op: 'unpublish'; struct: number; field: string; obj: VarRef; next: number; src: SimSource }
  | { op: 'unpublish_key'; struct: number; key: string; dst?: VarRef; next: number; src: SimSource }
  | { op: 'lookup'; struct: number; key: string | null; dst: VarRef; next: number; src: SimSource }
  | { op: 'sleep'; next: number; src: SimSource }
  | { op: 'ret'; src: SimSource };

export type OpCode = Instr['op'];

/** One actor's code: a thread body, or an RCU callback body (param in slot 0). */
export interface Program {
  name: string;
  instrs: Instr[];
  /** Names of the frame's slots (for display); slot 0 of a callback is its parameter. */
  slots: string[];
  /** 'thread' programs run from the start; 'callback' programs are spawned by call_rcu. */
  role: 'thread' | 'callback';
}

export interface SimModel {
  name: string;
  file: string;
  locks: LockDecl[];
  structs: StructDecl[];
  globals: GlobalDecl[];
  sites: ObjectSite[];
  /** Thread programs, in order; then callback programs. `threads` indexes into `programs`. */
  programs: Program[];
  threads: number[];
  /** Setup program, run to completion (single-threaded) before the threads start, or null. */
  setup: number | null;
}

// ---- results -------------------------------------------------------------

export type ObjectStateName = 'unallocated' | 'allocated' | 'published' | 'released' | 'freed';

export interface ObjectView {
  name: string;
  refcount: number;
  state: ObjectStateName;
  /** Structures currently holding a pointer to it. */
  in: string[];
  /** A call_rcu/kfree_rcu callback is pending for it. */
  rcuPending: boolean;
}

/** The state after a step, as plain data. */
export interface StateView {
  objects: ObjectView[];
  /** lock name -> holders ("thread" or "thread(r)"). Only held locks are listed. */
  locks: Record<string, string[]>;
  /** Threads inside an RCU read-side critical section. */
  rcuReaders: string[];
  /** Pending RCU callbacks, e.g. "obj_free_rcu(obj) waiting for grace period". */
  pendingCallbacks: string[];
}

export interface SimTraceStep {
  thread: string;
  op: string;
  file: string;
  line: number;
  column: number;
  /** What happened, e.g. "refcount 1 -> 0", "branch: taken". */
  note: string;
  state: StateView;
}

export interface Violation {
  kind: ViolationKind;
  message: string;
  trace: SimTraceStep[];
}

export type Verdict = 'safe' | 'violation' | 'incomplete';

export interface ExploreResult {
  verdict: Verdict;
  /** One (shortest found) trace per violation kind, in order of discovery. */
  violations: Violation[];
  /** Distinct states visited. */
  states: number;
  transitions: number;
  /** Why exploration stopped early (verdict 'incomplete'), else null. */
  stoppedBecause: 'max-states' | 'cancelled' | null;
}

export interface ExploreOptions {
  /** Partial-order reduction (persistent sets). Default true. */
  por?: boolean;
  /** Stop (verdict 'incomplete' unless a violation was found) after this many states. Default 500000. */
  maxStates?: number;
  signal?: AbortSignal;
  shouldStop?: () => boolean;
  /** Stop at the first violation instead of collecting one trace per kind. Default false. */
  stopAtFirst?: boolean;
}
