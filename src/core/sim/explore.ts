/**
 * Exhaustive interleaving explorer: breadth-first (so the first trace found for
 * each violation kind is a shortest one in the explored graph), state hashing,
 * persistent-set partial-order reduction (por.ts), bounded and cancellable.
 */
import { computeFootprints, persistentSet, type Footprints } from './por';
import {
  actorCount,
  actorName,
  actorTransitions,
  currentInstr,
  initialState,
  stateKey,
  step,
  terminalViolation,
  viewState,
  actorOf,
  type SimState,
  type Transition,
} from './state';
import type { ExploreOptions, ExploreResult, SimModel, SimTraceStep, Violation, ViolationKind } from './types';

export class SetupError extends Error {}

/** Run the setup program (single-threaded, first branch of any choice) and return the initial state. */
export function startState(model: SimModel): SimState {
  const st0 = initialState(model);
  if (model.setup === null) return st0;
  const setupModel: SimModel = { ...model, threads: [model.setup] };
  let st: SimState = { ...st0, threads: [initialState(setupModel).threads[0]!] };
  for (let guard = 0; guard < 10000 && st.threads[0]!.pc >= 0; guard++) {
    const ts = actorTransitions(setupModel, st, 0);
    if (ts.length === 0) throw new SetupError('setup blocks');
    const r = step(setupModel, st, ts[0]!);
    if (r.violation) throw new SetupError(`setup: ${r.violation.message}`);
    st = r.state;
  }
  return { ...st, threads: st0.threads, cbs: st.cbs, errs: 0 };
}

interface Node {
  parent: number;
  actor: number;
  alt: number;
}

function transitionsOf(model: SimModel, st: SimState, fp: Footprints | null): Transition[] {
  if (fp) return persistentSet(model, fp, st);
  const out: Transition[] = [];
  for (let i = 0; i < actorCount(st); i++) out.push(...actorTransitions(model, st, i));
  return out;
}

export function explore(model: SimModel, options: ExploreOptions = {}): ExploreResult {
  const maxStates = options.maxStates ?? 500_000;
  const fp = options.por === false ? null : computeFootprints(model);
  const init = startState(model);
  const seen = new Map<string, number>();
  const nodes: Node[] = [{ parent: -1, actor: -1, alt: 0 }];
  seen.set(stateKey(init), 0);
  let queue: Array<[number, SimState]> = [[0, init]];
  const found = new Map<ViolationKind, { path: number; last: Transition | null; message: string }>();
  let transitions = 0;
  let stoppedBecause: ExploreResult['stoppedBecause'] = null;
  let counter = 0;

  outer: while (queue.length) {
    const next: Array<[number, SimState]> = [];
    for (const [id, st] of queue) {
      if ((++counter & 255) === 0 && (options.signal?.aborted || options.shouldStop?.())) {
        stoppedBecause = 'cancelled';
        break outer;
      }
      const ts = transitionsOf(model, st, fp);
      if (ts.length === 0) {
        const v = terminalViolation(model, st);
        if (v && !found.has(v.kind)) {
          found.set(v.kind, { path: id, last: null, message: v.message });
          if (options.stopAtFirst) break outer;
        }
        continue;
      }
      for (const t of ts) {
        transitions++;
        const r = step(model, st, t);
        if (r.violation && !found.has(r.violation.kind)) {
          found.set(r.violation.kind, { path: id, last: t, message: r.violation.message });
          if (options.stopAtFirst) break outer;
        }
        // The violating actor is halted; exploration goes on from there (other kinds may follow).
        const k = stateKey(r.state);
        if (seen.has(k)) continue;
        if (nodes.length >= maxStates) {
          stoppedBecause = 'max-states';
          break outer;
        }
        seen.set(k, nodes.length);
        next.push([nodes.length, r.state]);
        nodes.push({ parent: id, actor: t.actor, alt: t.alt });
      }
    }
    queue = next;
  }

  const violations: Violation[] = [];
  for (const [kind, f] of found) {
    const path: Transition[] = [];
    for (let n = f.path; n > 0; n = nodes[n]!.parent) path.push({ actor: nodes[n]!.actor, alt: nodes[n]!.alt });
    path.reverse();
    if (f.last) path.push(f.last);
    const short = f.last ? shortenPath(model, init, path, kind) : path;
    violations.push({ kind, message: f.message, trace: buildTrace(model, init, short) });
  }
  return {
    verdict: violations.length ? 'violation' : stoppedBecause ? 'incomplete' : 'safe',
    violations,
    states: nodes.length,
    transitions,
    stoppedBecause,
  };
}

/**
 * Shorten a counterexample that ends in an error transition: drop every step of
 * one actor at a time (other than the violating one) while the rest still
 * replays and reaches the same kind. Removes unrelated work and, in particular,
 * earlier violations of other actors that the reduced search happened to order first.
 */
function shortenPath(model: SimModel, init: SimState, path: Transition[], kind: ViolationKind): Transition[] {
  // Name the steps by actor, so they survive the index shifts of removed callbacks.
  const named: Array<{ name: string; alt: number }> = [];
  let st = init;
  for (const t of path) {
    named.push({ name: actorName(model, st, t.actor), alt: t.alt });
    st = step(model, st, t).state;
  }
  const rebuild = (steps: Array<{ name: string; alt: number }>): Transition[] | null => {
    let cur = init;
    const out: Transition[] = [];
    for (let i = 0; i < steps.length; i++) {
      const s = steps[i]!;
      let t: Transition | undefined;
      for (let a = 0; a < actorCount(cur) && !t; a++) {
        if (actorName(model, cur, a) === s.name) t = actorTransitions(model, cur, a).find((x) => x.alt === s.alt);
      }
      if (!t) return null;
      const r = step(model, cur, t);
      if (r.violation && (i < steps.length - 1 || r.violation.kind !== kind)) return null;
      if (i === steps.length - 1 && !r.violation) return null;
      out.push(t);
      cur = r.state;
    }
    return out;
  };
  let best = named;
  const last = named[named.length - 1]!.name;
  for (const name of [...new Set(named.map((n) => n.name))]) {
    if (name === last) continue;
    const cand = best.filter((n) => n.name !== name);
    if (cand.length < best.length && rebuild(cand)) best = cand;
  }
  return best === named ? path : rebuild(best)!;
}

function traceStep(model: SimModel, st: SimState, t: Transition, after: SimState, note: string): SimTraceStep {
  const a = actorOf(st, t.actor);
  const ins = currentInstr(model, a);
  const src = a.gp ? null : ins?.src;
  return {
    thread: actorName(model, st, t.actor),
    op: src ? src.text : 'grace period ends',
    file: src?.file ?? model.file,
    line: src?.line ?? 0,
    column: src?.column ?? 0,
    note,
    state: viewState(model, after),
  };
}

/** Re-execute a path of transitions from the initial state, producing the trace. */
export function buildTrace(model: SimModel, init: SimState, path: Transition[]): SimTraceStep[] {
  const out: SimTraceStep[] = [];
  let st = init;
  for (const t of path) {
    const r = step(model, st, t);
    out.push(traceStep(model, st, t, r.state, r.note));
    st = r.state;
  }
  return out;
}

export interface ReplayResult {
  /** The violation reached at the end of the trace, or null. */
  reached: { kind: ViolationKind; message: string } | null;
  /** Index of the first step that could not be matched, or -1. */
  failedAt: number;
  reason: string;
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * Replay a trace step by step against the model: each step must match an
 * enabled transition (same thread, line and note) whose resulting state equals
 * the step's recorded state. Returns the violation the last step reaches.
 */
export function replayTrace(model: SimModel, trace: SimTraceStep[]): ReplayResult {
  let st = startState(model);
  for (let i = 0; i < trace.length; i++) {
    const s = trace[i]!;
    let matched = false;
    for (let actor = 0; actor < actorCount(st) && !matched; actor++) {
      for (const t of actorTransitions(model, st, actor)) {
        const r = step(model, st, t);
        const ts = traceStep(model, st, t, r.state, r.note);
        if (ts.thread !== s.thread || ts.line !== s.line || ts.op !== s.op || ts.note !== s.note || !sameJson(ts.state, s.state)) continue;
        matched = true;
        if (r.violation && i === trace.length - 1) return { reached: r.violation, failedAt: -1, reason: '' };
        st = r.state;
        break;
      }
    }
    if (!matched) return { reached: null, failedAt: i, reason: `no enabled transition matches step ${i + 1} (${s.thread}: ${s.op})` };
  }
  for (let actor = 0; actor < actorCount(st); actor++) {
    if (actorTransitions(model, st, actor).length) return { reached: null, failedAt: trace.length, reason: 'trace ends in a non-final state without a violation' };
  }
  return { reached: terminalViolation(model, st), failedAt: -1, reason: '' };
}
