/**
 * Partial-order reduction by persistent (stubborn) sets.
 *
 * Every op has a static footprint: the shared resources it reads and writes
 * (an object's refcount/state per allocation site — pointer targets come from a
 * flow-insensitive points-to analysis —, a lock, a lookup structure, a global
 * pointer, a thread's RCU reader state, the callback queue). Two ops of
 * different actors are independent when neither writes what the other touches.
 * At a state, starting from one actor, the set is closed under "an enabled op
 * of a member conflicts with some future op of another actor" and "a disabled
 * op of a member could be enabled by a future write of another actor"; the
 * smallest closed set's enabled transitions are explored. An op that violates a
 * rule leads to a terminal error state, so violations are preserved like
 * deadlocks. Programs are acyclic (no loops, forward gotos only), so no cycle
 * proviso is needed; models with backward jumps fall back to full exploration.
 */
import { actorCount, actorOf, actorTransitions, type SimState, type Transition } from './state';
import type { Instr, Operand, SimModel, VarRef } from './types';

export interface FP {
  r: bigint;
  w: bigint;
}

export interface Footprints {
  /** Footprint of the instruction at [prog][pc]. */
  own: FP[][];
  /** Union of footprints of everything reachable from [prog][pc] (inclusive). */
  future: FP[][];
  /** Footprint of a callback's grace-period wait and start (per callback program). */
  gp: FP[];
  /** Footprint of a thread's synchronize_rcu wait. */
  syncWait: FP;
  /** Whole-program footprint (for callback programs spawned later). */
  whole: FP[];
  acyclic: boolean;
}

const EMPTY: FP = { r: 0n, w: 0n };
const union = (a: FP, b: FP): FP => ({ r: a.r | b.r, w: a.w | b.w });
const conflicts = (a: FP, b: FP): boolean => ((a.w & (b.r | b.w)) | (a.r & b.w)) !== 0n;

function successors(i: Instr): number[] {
  if (i.op === 'ret') return [];
  const out = [i.next];
  if ('alt' in i) out.push(i.alt);
  return out.filter((n) => n >= 0);
}

/** Flow-insensitive points-to: variable key -> allocation sites. */
function pointsTo(model: SimModel): Map<string, Set<number>> {
  const pts = new Map<string, Set<number>>();
  const key = (prog: number, v: VarRef): string => (v >= 0 ? `${prog}:${v}` : `g${-(v + 1)}`);
  const get = (k: string): Set<number> => {
    let s = pts.get(k);
    if (!s) pts.set(k, (s = new Set()));
    return s;
  };
  const flow = (from: string, to: string): boolean => {
    const src = get(from);
    const dst = get(to);
    const before = dst.size;
    for (const x of src) dst.add(x);
    return dst.size !== before;
  };
  for (let changed = true, rounds = 0; changed && rounds < 100; rounds++) {
    changed = false;
    model.programs.forEach((p, pi) => {
      for (const i of p.instrs) {
        switch (i.op) {
          case 'alloc': {
            const s = get(key(pi, i.dst));
            if (!s.has(i.site)) {
              s.add(i.site);
              changed = true;
            }
            break;
          }
          case 'assign':
            if ('var' in i.value) changed = flow(key(pi, i.value.var), key(pi, i.dst)) || changed;
            break;
          case 'publish':
            changed = flow(key(pi, i.obj), `s${i.struct}`) || changed;
            break;
          case 'lookup':
            changed = flow(`s${i.struct}`, key(pi, i.dst)) || changed;
            break;
          case 'unpublish_key':
            if (i.dst !== undefined) changed = flow(`s${i.struct}`, key(pi, i.dst)) || changed;
            break;
          case 'call_rcu':
            changed = flow(key(pi, i.obj), key(i.cb, 0)) || changed;
            break;
          default:
            break;
        }
      }
    });
  }
  return pts;
}

export function computeFootprints(model: SimModel): Footprints {
  const pts = pointsTo(model);
  const nSites = model.sites.length;
  let next = nSites;
  const lockBase = next;
  next += model.locks.length;
  const structBase = next;
  next += model.structs.length;
  const globalBase = next;
  next += model.globals.length;
  const rcuBase = next;
  next += model.threads.length;
  const CBQ = 1n << BigInt(next);
  const bit = (n: number): bigint => 1n << BigInt(n);
  let allRcu = 0n;
  for (let t = 0; t < model.threads.length; t++) allRcu |= bit(rcuBase + t);

  const objBits = (prog: number, v: VarRef): bigint => {
    const s = pts.get(v >= 0 ? `${prog}:${v}` : `g${-(v + 1)}`);
    let m = 0n;
    if (s) for (const x of s) m |= bit(x);
    // A pointer to nothing known: conservatively every object.
    if (!s || s.size === 0) for (let x = 0; x < nSites; x++) m |= bit(x);
    return m;
  };
  const varR = (v: VarRef): bigint => (v < 0 ? bit(globalBase - (v + 1)) : 0n);
  const opR = (o: Operand): bigint => ('var' in o ? varR(o.var) : 0n);
  const dstW = (v: VarRef | undefined): bigint => (v !== undefined && v < 0 ? bit(globalBase - (v + 1)) : 0n);

  /** Which thread index a program runs as (rcu resource), or -1. */
  const threadOf = new Map<number, number>();
  model.threads.forEach((p, t) => threadOf.set(p, t));

  const ownOf = (prog: number, i: Instr): FP => {
    const ob = (v: VarRef): bigint => objBits(prog, v);
    switch (i.op) {
      case 'nop':
      case 'choice':
      case 'sleep':
        return EMPTY;
      case 'ret':
        return model.programs[prog]!.role === 'callback' ? { r: 0n, w: CBQ } : EMPTY;
      case 'test':
        return { r: opR(i.a) | (i.b ? opR(i.b) : 0n), w: 0n };
      case 'assign':
        return { r: opR(i.value), w: dstW(i.dst) };
      case 'alloc':
        return { r: 0n, w: bit(i.site) | dstW(i.dst) };
      case 'set':
      case 'inc':
      case 'dec':
      case 'free':
        return { r: varR(i.obj), w: ob(i.obj) };
      case 'inc_not_zero':
      case 'dec_and_test':
      case 'dec_not_one':
        return { r: varR(i.obj), w: ob(i.obj) | dstW(i.dst) };
      case 'access':
        return i.write ? { r: varR(i.obj), w: ob(i.obj) } : { r: varR(i.obj) | ob(i.obj), w: 0n };
      case 'call_rcu':
        return { r: varR(i.obj) | allRcu, w: ob(i.obj) | CBQ };
      case 'rcu_lock':
      case 'rcu_unlock': {
        const t = threadOf.get(prog);
        return t === undefined ? EMPTY : { r: 0n, w: bit(rcuBase + t) };
      }
      case 'sync_rcu':
        return { r: allRcu, w: 0n };
      case 'rcu_barrier':
        return { r: CBQ, w: 0n };
      case 'lock':
      case 'trylock':
      case 'unlock':
        return { r: 0n, w: bit(lockBase + i.lock) | ('dst' in i ? dstW(i.dst) : 0n) };
      case 'publish':
      case 'unpublish':
        return { r: varR(i.obj) | ob(i.obj), w: bit(structBase + i.struct) };
      case 'unpublish_key':
        return { r: 0n, w: bit(structBase + i.struct) | dstW(i.dst) };
      case 'lookup':
        return { r: bit(structBase + i.struct), w: dstW(i.dst) };
    }
  };

  let acyclic = true;
  const own = model.programs.map((p, pi) =>
    p.instrs.map((i, pc) => {
      for (const s of successors(i)) if (s <= pc) acyclic = false;
      return ownOf(pi, i);
    }),
  );
  // The grace-period transition reads every reader's state and frees the object's rcu_head.
  const gp: FP[] = model.programs.map((_p, pi) => ({ r: allRcu, w: objBits(pi, 0) }));
  const syncWait: FP = { r: allRcu, w: 0n };
  // Whole-program footprints, then futures; callbacks spawned by call_rcu are
  // part of the spawning op's future (iterate to a fixpoint over nesting).
  const whole: FP[] = model.programs.map(() => EMPTY);
  let future: FP[][] = [];
  for (let round = 0; round < 8; round++) {
    future = model.programs.map((p, pi) => {
      const f: FP[] = new Array<FP>(p.instrs.length).fill(EMPTY);
      for (let pc = p.instrs.length - 1; pc >= 0; pc--) {
        const i = p.instrs[pc]!;
        let fp = own[pi]![pc]!;
        if (i.op === 'call_rcu') fp = union(fp, union(whole[i.cb]!, gp[i.cb]!));
        for (const s of successors(i)) if (s > pc) fp = union(fp, f[s]!);
        f[pc] = fp;
      }
      return f;
    });
    let changed = false;
    model.programs.forEach((_p, pi) => {
      let w = EMPTY;
      for (const fp of future[pi]!) w = union(w, fp);
      if (w.r !== whole[pi]!.r || w.w !== whole[pi]!.w) changed = true;
      whole[pi] = w;
    });
    if (!changed) break;
  }
  if (!acyclic) {
    // Backward jumps: futures are not precise; make every future the whole program.
    future = model.programs.map((prog, pi) => prog.instrs.map(() => whole[pi]!));
  }
  return { own, future, gp, syncWait, whole, acyclic };
}

function currentFP(fp: Footprints, st: SimState, actor: number): FP {
  const a = actorOf(st, actor);
  if (a.gp) return fp.gp[a.prog]!;
  if (a.sync) return fp.syncWait;
  return fp.own[a.prog]![a.pc]!;
}

function futureFP(fp: Footprints, st: SimState, actor: number): FP {
  const a = actorOf(st, actor);
  if (a.pc < 0) return EMPTY;
  const f = fp.future[a.prog]![a.pc]!;
  return a.gp ? union(f, fp.gp[a.prog]!) : f;
}

/** The transitions to explore at `st`: the enabled transitions of a smallest persistent set of actors. */
export function persistentSet(model: SimModel, fp: Footprints, st: SimState): Transition[] {
  const n = actorCount(st);
  const enabled: Transition[][] = [];
  let all = 0;
  for (let i = 0; i < n; i++) {
    enabled.push(actorTransitions(model, st, i));
    all += enabled[i]!.length;
  }
  if (!fp.acyclic || all <= 1) return enabled.flat();
  const live: number[] = [];
  for (let i = 0; i < n; i++) if (actorOf(st, i).pc >= 0) live.push(i);
  const futures = live.map((i) => futureFP(fp, st, i));
  let best: Transition[] | null = null;
  for (const seed of live) {
    if (enabled[seed]!.length === 0) continue;
    const inSet = new Set<number>([seed]);
    const work = [seed];
    let size = 0;
    let tooBig = false;
    while (work.length && !tooBig) {
      const u = work.pop()!;
      size += enabled[u]!.length;
      if (best && size >= best.length) tooBig = true;
      const cur = currentFP(fp, st, u);
      const isEnabled = enabled[u]!.length > 0;
      live.forEach((v, k) => {
        if (inSet.has(v)) return;
        const fut = futures[k]!;
        const dep = isEnabled ? conflicts(cur, fut) : (fut.w & (cur.r | cur.w)) !== 0n;
        if (dep) {
          inSet.add(v);
          work.push(v);
        }
      });
    }
    if (tooBig) continue;
    const ts: Transition[] = [];
    for (const v of [...inSet].sort((x, y) => x - y)) ts.push(...enabled[v]!);
    if (!best || ts.length < best.length) best = ts;
    if (best.length === 1) break;
  }
  return best ?? enabled.flat();
}

