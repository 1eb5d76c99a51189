/**
 * Simulator state and the transition relation: which actors (threads and RCU
 * callbacks) can move, and what one step does. Pure and deterministic; the
 * explorer (explore.ts) drives it.
 */
import { VIOLATION_KINDS, type Instr, type ObjectView, type Operand, type SimModel, type StateView, type ViolationKind, type VarRef } from './types';

/** Object life states. */
export const UNALLOC = 0;
export const ALLOCATED = 1;
export const RELEASED = 2;
export const FREED = 3;

export interface ObjS {
  rc: number;
  st: number;
  /** call_rcu pending (the rcu_head is in use). */
  cb: number;
}

export interface Entry {
  s: number;
  key: string;
  obj: number;
  field: string;
}

/** Actor pc after a violation: the actor is halted (like a thread that oopsed); the others go on. */
export const CRASHED = -2;

export interface ActorS {
  prog: number;
  /** -1: finished; CRASHED: halted by a violation. */
  pc: number;
  vars: number[];
  /** RCU read-side nesting depth. */
  rcu: number;
  /** Incremented each time the outermost RCU read section ends. */
  epoch: number;
  /** synchronize_rcu in progress: reader snapshot (epoch per thread, -1 = not reading), else null. */
  sync: number[] | null;
  /** Callbacks only: waiting for the grace period of this snapshot (null once running). */
  gp: number[] | null;
  /** Callbacks only: the object the callback was queued for. */
  obj: number;
}

export interface LockS {
  /** Holder id (see holderId) or -1. */
  w: number;
  /** Reader holder ids, sorted. */
  r: number[];
}

export interface SimState {
  objs: ObjS[];
  entries: Entry[];
  locks: LockS[];
  globals: number[];
  threads: ActorS[];
  /** Pending/running RCU callbacks, kept in canonical (sorted) order. */
  cbs: ActorS[];
  /** Violation kinds that occurred on the way here (bit i = VIOLATION_KINDS[i]). */
  errs: number;
}

export interface Transition {
  /** Actor index: threads first, then callbacks (index into cbs + threads.length). */
  actor: number;
  /** 0 normally; 1 for the second outcome of a nondeterministic choice. */
  alt: number;
}

export interface StepResult {
  state: SimState;
  note: string;
  violation: { kind: ViolationKind; message: string } | null;
}

export const NULL = -1;
/** Pointer values are OBJ_BASE + site, so they never collide with small integers (0, 1, -EINTR). */
export const OBJ_BASE = 1 << 20;
export const ptrTo = (site: number): number => OBJ_BASE + site;
export const siteOf = (v: number): number => (v >= OBJ_BASE ? v - OBJ_BASE : NULL);

export function holderId(_model: SimModel, st: SimState, actor: number): number {
  if (actor < st.threads.length) return actor;
  const cb = st.cbs[actor - st.threads.length]!;
  return 1000 + cb.prog * 64 + cb.obj + 1;
}

export function holderName(model: SimModel, id: number): string {
  if (id < 1000) return model.programs[model.threads[id]!]!.name;
  const prog = Math.floor((id - 1000) / 64);
  const obj = ((id - 1000) % 64) - 1;
  return callbackName(model, prog, obj);
}

export function callbackName(model: SimModel, prog: number, obj: number): string {
  return `rcu-callback ${model.programs[prog]!.name}(${obj >= 0 ? model.sites[obj]!.name : 'NULL'})`;
}

export function actorName(model: SimModel, st: SimState, actor: number): string {
  if (actor < st.threads.length) return model.programs[st.threads[actor]!.prog]!.name;
  const cb = st.cbs[actor - st.threads.length]!;
  return callbackName(model, cb.prog, cb.obj);
}

export function actorOf(st: SimState, actor: number): ActorS {
  return actor < st.threads.length ? st.threads[actor]! : st.cbs[actor - st.threads.length]!;
}

function newActor(prog: number, nslots: number): ActorS {
  return { prog, pc: 0, vars: new Array<number>(nslots).fill(NULL), rcu: 0, epoch: 0, sync: null, gp: null, obj: NULL };
}

export function initialState(model: SimModel): SimState {
  return {
    objs: model.sites.map(() => ({ rc: 0, st: UNALLOC, cb: 0 })),
    entries: [],
    locks: model.locks.map(() => ({ w: -1, r: [] })),
    globals: model.globals.map(() => NULL),
    threads: model.threads.map((p) => newActor(p, model.programs[p]!.slots.length)),
    cbs: [],
    errs: 0,
  };
}

export function cloneState(s: SimState): SimState {
  return {
    objs: s.objs.map((o) => ({ ...o })),
    entries: s.entries.slice(),
    locks: s.locks.map((l) => ({ w: l.w, r: l.r.slice() })),
    globals: s.globals.slice(),
    threads: s.threads.map(cloneActor),
    cbs: s.cbs.map(cloneActor),
    errs: s.errs,
  };
}

function cloneActor(a: ActorS): ActorS {
  return { ...a, vars: a.vars.slice(), sync: a.sync ? a.sync.slice() : null, gp: a.gp ? a.gp.slice() : null };
}

function actorKey(a: ActorS): string {
  return `${a.prog}.${a.pc}.${a.vars.join(',')}.${a.rcu}.${a.epoch}.${a.sync ? a.sync.join(',') : '-'}.${a.gp ? a.gp.join(',') : '-'}.${a.obj}`;
}

export function stateKey(s: SimState): string {
  let k = '';
  for (const o of s.objs) k += `${o.rc},${o.st},${o.cb};`;
  k += '|';
  for (const e of s.entries) k += `${e.s}:${e.key}:${e.obj}:${e.field};`;
  k += '|';
  for (const l of s.locks) k += `${l.w}/${l.r.join(',')};`;
  k += '|' + s.globals.join(',') + '|';
  for (const t of s.threads) k += actorKey(t) + ';';
  k += '|';
  for (const c of s.cbs) k += actorKey(c) + ';';
  return k + '|' + s.errs;
}

function sortCbs(s: SimState): void {
  s.cbs.sort((a, b) => (actorKey(a) < actorKey(b) ? -1 : actorKey(a) > actorKey(b) ? 1 : 0));
}

function sortEntries(s: SimState): void {
  s.entries.sort((a, b) => a.s - b.s || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0) || a.obj - b.obj || (a.field < b.field ? -1 : a.field > b.field ? 1 : 0));
}

function readVar(st: SimState, a: ActorS, v: VarRef): number {
  return v >= 0 ? a.vars[v]! : st.globals[-(v + 1)]!;
}

function writeVar(st: SimState, a: ActorS, v: VarRef, value: number): void {
  if (v >= 0) a.vars[v] = value;
  else st.globals[-(v + 1)] = value;
}

function operand(st: SimState, a: ActorS, o: Operand): number {
  return 'var' in o ? readVar(st, a, o.var) : o.const;
}

/** Readers snapshot for a grace period: epoch per thread, -1 when the thread is not reading. */
function readerSnapshot(st: SimState): number[] {
  return st.threads.map((t) => (t.rcu > 0 ? t.epoch : -1));
}

function gracePeriodElapsed(st: SimState, snap: number[]): boolean {
  return snap.every((e, i) => e < 0 || st.threads[i]!.epoch > e);
}

function lockEnabled(l: LockS, mode: 'r' | 'w', me: number): boolean {
  if (mode === 'w') return l.w === -1 && l.r.length === 0;
  // Recursive read acquisition of an rwlock is allowed; a writer blocks readers.
  return l.w === -1 || (l.r.includes(me) && l.w === -1);
}

/** The instruction an actor is at, or null when it finished. */
export function currentInstr(model: SimModel, a: ActorS): Instr | null {
  if (a.pc < 0) return null;
  return model.programs[a.prog]!.instrs[a.pc] ?? null;
}

/** Enabled transitions of one actor (0, 1 or 2). */
export function actorTransitions(model: SimModel, st: SimState, actor: number): Transition[] {
  const a = actorOf(st, actor);
  if (a.pc < 0) return [];
  if (a.gp) return gracePeriodElapsed(st, a.gp) ? [{ actor, alt: 0 }] : [];
  const ins = currentInstr(model, a);
  if (!ins) return [];
  const me = holderId(model, st, actor);
  switch (ins.op) {
    case 'choice':
      return [{ actor, alt: 0 }, { actor, alt: 1 }];
    case 'lock': {
      const l = st.locks[ins.lock]!;
      // Blocking on a lock this actor already holds is a self-deadlock: it never becomes enabled.
      return lockEnabled(l, ins.mode, me) ? [{ actor, alt: 0 }] : [];
    }
    case 'trylock': {
      if (ins.interruptible) {
        // mutex_lock_interruptible: may be interrupted while waiting (or even before); acquires when free.
        const free = lockEnabled(st.locks[ins.lock]!, ins.mode, me);
        return free ? [{ actor, alt: 0 }, { actor, alt: 1 }] : [{ actor, alt: 1 }];
      }
      return [{ actor, alt: 0 }];
    }
    case 'sync_rcu':
      if (a.sync) return gracePeriodElapsed(st, a.sync) ? [{ actor, alt: 0 }] : [];
      return [{ actor, alt: 0 }];
    case 'rcu_barrier':
      return st.cbs.length === 0 ? [{ actor, alt: 0 }] : [];
    default:
      return [{ actor, alt: 0 }];
  }
}

export function actorCount(st: SimState): number {
  return st.threads.length + st.cbs.length;
}

export function enabledTransitions(model: SimModel, st: SimState): Transition[] {
  const out: Transition[] = [];
  for (let i = 0; i < actorCount(st); i++) out.push(...actorTransitions(model, st, i));
  return out;
}

function objName(model: SimModel, id: number): string {
  return id >= 0 ? model.sites[id]!.name : 'NULL';
}

const ATOMIC_LOCKS = new Set(['spinlock', 'rwlock']);

function atomicContext(model: SimModel, st: SimState, actor: number): string | null {
  const a = actorOf(st, actor);
  if (actor >= st.threads.length) return 'an RCU callback (softirq context)';
  const me = holderId(model, st, actor);
  for (let i = 0; i < st.locks.length; i++) {
    const l = st.locks[i]!;
    const decl = model.locks[i]!;
    if ((l.w === me || l.r.includes(me)) && ATOMIC_LOCKS.has(decl.kind)) return `holding ${decl.kind} ${decl.name}`;
  }
  if (a.rcu > 0) return 'an RCU read-side critical section';
  return null;
}

function heldLocks(model: SimModel, st: SimState, actor: number): string[] {
  const me = holderId(model, st, actor);
  const out: string[] = [];
  st.locks.forEach((l, i) => {
    if (l.w === me || l.r.includes(me)) out.push(model.locks[i]!.name);
  });
  return out;
}

/**
 * Execute one transition. Never mutates `st`. A step that violates a rule
 * returns the violation (the explorer treats it as a terminal error state).
 */
export function step(model: SimModel, st0: SimState, t: Transition): StepResult {
  const st = cloneState(st0);
  const isThread = t.actor < st.threads.length;
  const a = actorOf(st, t.actor);
  const me = holderId(model, st, t.actor);
  // A violation halts the actor (its state stays as it was); the other actors go on, so an
  // error transition commutes with independent ops like any other (needed by the POR).
  const bad = (kind: ViolationKind, message: string): StepResult => {
    const halted = cloneState(st0);
    actorOf(halted, t.actor).pc = CRASHED;
    halted.errs |= 1 << VIOLATION_KINDS.indexOf(kind);
    return { state: halted, note: message, violation: { kind, message } };
  };
  const done = (note: string): StepResult => {
    if (!isThread) sortCbs(st);
    return { state: st, note, violation: null };
  };

  if (a.gp) {
    a.gp = null;
    if (a.obj >= 0) st.objs[a.obj]!.cb = 0;
    return done('grace period elapsed; callback runs');
  }
  const ins = currentInstr(model, a)!;
  const obj = (v: VarRef): number => siteOf(readVar(st, a, v));
  /** Check that the object a pointer designates is live; returns a violation or null. */
  const live = (v: VarRef, what: string): StepResult | null => {
    const id = obj(v);
    if (id < 0) return bad('use-after-free', `${what} through a NULL pointer`);
    const o = st.objs[id]!;
    if (o.st === FREED) return bad('use-after-free', `${what} on ${objName(model, id)} after it was freed`);
    return null;
  };
  const sleepCheck = (): StepResult | null => {
    const ctx = atomicContext(model, st, t.actor);
    return ctx ? bad('sleep-in-atomic', `${ins.src.text.trim()} may sleep in ${ctx}`) : null;
  };

  switch (ins.op) {
    case 'nop':
      a.pc = ins.next;
      return done('');
    case 'choice':
      a.pc = t.alt === 0 ? ins.next : ins.alt;
      return done(t.alt === 0 ? 'branch: condition true' : 'branch: condition false');
    case 'test': {
      const x = operand(st, a, ins.a);
      const y = ins.b ? operand(st, a, ins.b) : 0;
      const r =
        ins.cmp === '!=0' ? x !== NULL && x !== 0 :
        ins.cmp === '==0' ? x === NULL || x === 0 :
        ins.cmp === '<0' ? x < 0 :
        ins.cmp === '>=0' ? x >= 0 :
        ins.cmp === '==' ? x === y : x !== y;
      a.pc = r ? ins.next : ins.alt;
      const what = ins.cmp === '!=0' ? ins.src.text : ins.cmp === '==0' ? `!${ins.src.text}` : ins.src.text;
      return done(`(${what}) is ${r ? 'true' : 'false'}`);
    }
    case 'assign': {
      const v = operand(st, a, ins.value);
      writeVar(st, a, ins.dst, v);
      a.pc = ins.next;
      return done(v >= OBJ_BASE ? `points to ${objName(model, siteOf(v))}` : v === NULL ? '= NULL' : `= ${v}`);
    }
    case 'alloc': {
      if (ins.sleeps) {
        const s = sleepCheck();
        if (s) return s;
      }
      const o = st.objs[ins.site]!;
      o.st = ALLOCATED;
      o.rc = 0;
      o.cb = 0;
      writeVar(st, a, ins.dst, ptrTo(ins.site));
      a.pc = ins.next;
      return done(`allocates ${objName(model, ins.site)}`);
    }
    case 'set': {
      const e = live(ins.obj, 'refcount init');
      if (e) return e;
      st.objs[obj(ins.obj)]!.rc = ins.value;
      a.pc = ins.next;
      return done(`refcount = ${ins.value}`);
    }
    case 'inc': {
      const e = live(ins.obj, 'reference get');
      if (e) return e;
      const o = st.objs[obj(ins.obj)]!;
      if (o.rc === 0 && !ins.raw) return bad('increment-from-zero', `${ins.src.text.trim()} increments the refcount of ${objName(model, obj(ins.obj))} from zero: the object is already being released`);
      o.rc++;
      if (o.rc === 1 && o.st === RELEASED) o.st = ALLOCATED;
      a.pc = ins.next;
      return done(`refcount ${o.rc - 1} -> ${o.rc}${o.rc === 1 ? ' (revived from zero)' : ''}`);
    }
    case 'inc_not_zero': {
      const e = live(ins.obj, 'get_unless_zero');
      if (e) return e;
      const o = st.objs[obj(ins.obj)]!;
      const ok = o.rc !== 0;
      if (ok) o.rc++;
      if (ins.dst !== undefined) writeVar(st, a, ins.dst, ok ? 1 : 0);
      a.pc = ok ? ins.next : ins.alt;
      return done(ok ? `refcount ${o.rc - 1} -> ${o.rc} (returns true)` : 'refcount is 0: returns false');
    }
    case 'dec':
    case 'dec_and_test': {
      const e = live(ins.obj, 'reference put');
      if (e) return e;
      const o = st.objs[obj(ins.obj)]!;
      if (o.rc === 0) return bad('underflow', `${ins.src.text.trim()} drops a reference on ${objName(model, obj(ins.obj))} whose refcount is already 0`);
      o.rc--;
      const zero = o.rc === 0;
      if (zero && ins.op === 'dec_and_test') o.st = RELEASED;
      if (ins.op === 'dec') {
        a.pc = ins.next;
        return done(`refcount ${o.rc + 1} -> ${o.rc}`);
      }
      if (ins.dst !== undefined) writeVar(st, a, ins.dst, zero ? 1 : 0);
      a.pc = zero ? ins.next : ins.alt;
      return done(`refcount ${o.rc + 1} -> ${o.rc}${zero ? ' (last reference: release)' : ''}`);
    }
    case 'dec_not_one': {
      const e = live(ins.obj, 'reference put');
      if (e) return e;
      const o = st.objs[obj(ins.obj)]!;
      if (o.rc === 0) return bad('underflow', `${ins.src.text.trim()} drops a reference on ${objName(model, obj(ins.obj))} whose refcount is already 0`);
      const dec = o.rc !== 1;
      if (dec) o.rc--;
      if (ins.dst !== undefined) writeVar(st, a, ins.dst, dec ? 1 : 0);
      a.pc = dec ? ins.next : ins.alt;
      return done(dec ? `refcount ${o.rc + 1} -> ${o.rc}` : 'refcount is 1: takes the slow path');
    }
    case 'access': {
      const e = live(ins.obj, ins.write ? 'write' : 'access');
      if (e) return e;
      a.pc = ins.next;
      return done(`${ins.write ? 'writes' : 'reads'} ${objName(model, obj(ins.obj))}`);
    }
    case 'free': {
      const id = obj(ins.obj);
      if (id < 0) {
        a.pc = ins.next;
        return done('kfree(NULL) is a no-op');
      }
      const o = st.objs[id]!;
      if (o.st === FREED) return bad('double-free', `${ins.src.text.trim()} frees ${objName(model, id)} a second time`);
      o.st = FREED;
      a.pc = ins.next;
      return done(`frees ${objName(model, id)}`);
    }
    case 'call_rcu': {
      const e = live(ins.obj, 'call_rcu');
      if (e) return e;
      const id = obj(ins.obj);
      const o = st.objs[id]!;
      if (o.cb) return bad('double-call-rcu', `${ins.src.text.trim()} queues ${objName(model, id)}'s rcu_head while its previous callback has not run yet`);
      o.cb = 1;
      const cb = newActor(ins.cb, model.programs[ins.cb]!.slots.length);
      cb.gp = readerSnapshot(st);
      cb.obj = id;
      cb.vars[0] = ptrTo(id);
      st.cbs.push(cb);
      sortCbs(st);
      a.pc = ins.next;
      return done(`queues ${callbackName(model, ins.cb, id)} after a grace period`);
    }
    case 'rcu_lock':
      a.rcu++;
      a.pc = ins.next;
      return done(a.rcu === 1 ? 'enters RCU read-side critical section' : `RCU nesting ${a.rcu}`);
    case 'rcu_unlock':
      if (a.rcu === 0) return bad('unlock-unheld', 'rcu_read_unlock() without rcu_read_lock()');
      a.rcu--;
      if (a.rcu === 0) a.epoch++;
      a.pc = ins.next;
      return done(a.rcu === 0 ? 'leaves RCU read-side critical section' : `RCU nesting ${a.rcu}`);
    case 'sync_rcu': {
      if (!a.sync) {
        const s = sleepCheck();
        if (s) return s;
        const snap = readerSnapshot(st);
        if (snap.some((e) => e >= 0) && !gracePeriodElapsed(st, snap)) {
          a.sync = snap;
          return done('waits for pre-existing RCU readers');
        }
        a.pc = ins.next;
        return done('no RCU readers: grace period elapses at once');
      }
      a.sync = null;
      a.pc = ins.next;
      return done('grace period elapsed');
    }
    case 'rcu_barrier': {
      const s = sleepCheck();
      if (s) return s;
      a.pc = ins.next;
      return done('all queued RCU callbacks have run');
    }
    case 'sleep': {
      const s = sleepCheck();
      if (s) return s;
      a.pc = ins.next;
      return done('may sleep');
    }
    case 'lock': {
      const decl = model.locks[ins.lock]!;
      if (decl.kind === 'mutex' || decl.kind === 'rwsem') {
        const s = sleepCheck();
        if (s) return s;
      }
      const l = st.locks[ins.lock]!;
      if (ins.mode === 'w') l.w = me;
      else l.r = [...l.r, me].sort((x, y) => x - y);
      a.pc = ins.next;
      return done(`acquires ${decl.name}${ins.mode === 'r' ? ' (read)' : ''}`);
    }
    case 'trylock': {
      const decl = model.locks[ins.lock]!;
      const l = st.locks[ins.lock]!;
      if (ins.interruptible) {
        const s = sleepCheck();
        if (s) return s;
      }
      const got = t.alt === 0 && lockEnabled(l, ins.mode, me);
      if (got) {
        if (ins.mode === 'w') l.w = me;
        else l.r = [...l.r, me].sort((x, y) => x - y);
      }
      if (ins.dst !== undefined) writeVar(st, a, ins.dst, ins.interruptible ? (got ? 0 : -4) : got ? 1 : 0);
      a.pc = got ? ins.next : ins.alt;
      return done(got ? `acquires ${decl.name}` : ins.interruptible ? 'interrupted: returns -EINTR' : `${decl.name} is busy: fails`);
    }
    case 'unlock': {
      const decl = model.locks[ins.lock]!;
      const l = st.locks[ins.lock]!;
      if (ins.mode === 'w') {
        if (l.w !== me) return bad('unlock-unheld', `${ins.src.text.trim()} releases ${decl.name}, which this thread does not hold`);
        l.w = -1;
      } else {
        const i = l.r.indexOf(me);
        if (i < 0) return bad('unlock-unheld', `${ins.src.text.trim()} releases ${decl.name} (read), which this thread does not hold`);
        l.r = l.r.filter((_, j) => j !== i);
      }
      a.pc = ins.next;
      return done(`releases ${decl.name}`);
    }
    case 'publish': {
      const e = live(ins.obj, 'publish');
      if (e) return e;
      const id = obj(ins.obj);
      const sd = model.structs[ins.struct]!;
      if (sd.kind === 'idr' || sd.kind === 'xarray') st.entries = st.entries.filter((x) => !(x.s === ins.struct && x.key === ins.key));
      st.entries.push({ s: ins.struct, key: ins.key, obj: id, field: ins.field });
      sortEntries(st);
      a.pc = ins.next;
      return done(`${objName(model, id)} published in ${sd.name}`);
    }
    case 'unpublish': {
      const e = live(ins.obj, 'unpublish');
      if (e) return e;
      const id = obj(ins.obj);
      const before = st.entries.length;
      st.entries = st.entries.filter((x) => !(x.obj === id && x.field === ins.field && x.s === ins.struct));
      a.pc = ins.next;
      return done(before === st.entries.length ? `${objName(model, id)} was not in ${model.structs[ins.struct]!.name}` : `${objName(model, id)} removed from ${model.structs[ins.struct]!.name}`);
    }
    case 'unpublish_key': {
      const hit = st.entries.find((x) => x.s === ins.struct && x.key === ins.key);
      st.entries = st.entries.filter((x) => !(x.s === ins.struct && x.key === ins.key));
      if (ins.dst !== undefined) writeVar(st, a, ins.dst, hit ? ptrTo(hit.obj) : NULL);
      a.pc = ins.next;
      return done(hit ? `${objName(model, hit.obj)} removed from ${model.structs[ins.struct]!.name}` : 'no entry');
    }
    case 'lookup': {
      const hit = st.entries.find((x) => x.s === ins.struct && (ins.key === null || x.key === ins.key));
      writeVar(st, a, ins.dst, hit ? ptrTo(hit.obj) : NULL);
      a.pc = ins.next;
      return done(hit ? `finds ${objName(model, hit.obj)}` : 'finds nothing (NULL)');
    }
    case 'ret': {
      const held = heldLocks(model, st, t.actor);
      if (held.length) return bad('lock-held-at-exit', `${actorName(model, st0, t.actor)} returns holding ${held.join(', ')}`);
      if (a.rcu > 0) return bad('lock-held-at-exit', `${actorName(model, st0, t.actor)} returns inside an RCU read-side critical section`);
      a.pc = -1;
      if (!isThread) {
        st.cbs = st.cbs.filter((c) => c !== a);
        return done('callback done');
      }
      return done('returns');
    }
  }
}

/** Violations visible only in a final state (no actor can move). */
export function terminalViolation(model: SimModel, st: SimState): { kind: ViolationKind; message: string } | null {
  // After a violation halted an actor, what follows (others blocked on its locks, its
  // references never dropped) is a consequence, not a new finding.
  for (let i = 0; i < actorCount(st); i++) if (actorOf(st, i).pc === CRASHED) return null;
  const stuck: string[] = [];
  for (let i = 0; i < actorCount(st); i++) {
    const a = actorOf(st, i);
    if (a.pc < 0) continue;
    const ins = currentInstr(model, a);
    const what = a.gp ? 'a grace period' : a.sync ? 'synchronize_rcu()' : ins ? ins.src.text.trim() : 'end';
    const holds = heldLocks(model, st, i);
    stuck.push(`${actorName(model, st, i)} waits at ${what}${holds.length ? ` holding ${holds.join(', ')}` : ''}`);
  }
  if (stuck.length) return { kind: 'deadlock', message: stuck.join('; ') };
  for (let id = 0; id < st.objs.length; id++) {
    const o = st.objs[id]!;
    if (o.st === UNALLOC || o.st === FREED) continue;
    let owners = st.entries.filter((e) => e.obj === id && model.structs[e.s]!.holdsRef).length;
    owners += st.globals.filter((g, i) => siteOf(g) === id && model.globals[i]!.holdsRef).length;
    if (o.rc > owners) return { kind: 'leaked-reference', message: `${objName(model, id)} ends with refcount ${o.rc} but only ${owners} owner(s) hold a reference: a reference was leaked` };
    if (o.rc === 0) return { kind: 'leaked-reference', message: `${objName(model, id)} reached refcount 0 but was never freed` };
  }
  return null;
}

function objState(st: SimState, id: number): ObjectView['state'] {
  const o = st.objs[id]!;
  if (o.st === UNALLOC) return 'unallocated';
  if (o.st === FREED) return 'freed';
  if (o.st === RELEASED) return 'released';
  return st.entries.some((e) => e.obj === id) ? 'published' : 'allocated';
}

export function viewState(model: SimModel, st: SimState): StateView {
  const locks: Record<string, string[]> = {};
  st.locks.forEach((l, i) => {
    const h: string[] = [];
    if (l.w >= 0) h.push(holderName(model, l.w));
    for (const r of l.r) h.push(`${holderName(model, r)}(r)`);
    if (h.length) locks[model.locks[i]!.name] = h;
  });
  return {
    objects: st.objs.map((o, id) => ({
      name: model.sites[id]!.name,
      refcount: o.rc,
      state: objState(st, id),
      in: st.entries.filter((e) => e.obj === id).map((e) => model.structs[e.s]!.name),
      rcuPending: o.cb === 1,
    })),
    locks,
    rcuReaders: st.threads.filter((t) => t.rcu > 0).map((t) => model.programs[t.prog]!.name),
    pendingCallbacks: st.cbs.map((c) => `${callbackName(model, c.prog, c.obj)}${c.gp ? ' waiting for a grace period' : ' running'}`),
  };
}
